"""Layer 7, cli: the command line, one small file per subcommand, each registered the same way.
No library logic lives here: a subcommand parses flags, calls the layers below (every one of
them may be imported) and prints.

    python -m ganlib train --dataset mnist5k --model mlp_gan --epochs 5
    python -m ganlib train --resume 00003-mlp_gan-mnist5k --epochs 20
    python -m ganlib sample 00003-mlp_gan-mnist5k --n 64 --out grid.png
    python -m ganlib runs
    python -m ganlib fork 00003-mlp_gan-mnist5k --lr-g 1e-4    # a branch with other settings
    python -m ganlib fid real_images/ fake_images/             # pytorch-fid's command line
    python -m ganlib fid --save-stats real_images/ real.npz    # pytorch-fid's mu/sigma file
    python -m ganlib metrics 00003-mlp_gan-mnist5k --json      # FID, KID, IS, precision/recall, ...
    python -m ganlib augment 00004-cdcgan_compact-mnist5k_train --real-per-class 10,50,100 --json out.json
    python -m ganlib sweep lr-study.yaml [--address ADDR]   # settings x seeds on Ray Tune
    python -m ganlib data inspect icons/ [--json]             # a folder of images before training on it
    python -m ganlib data preview icons/ --out grid.png       # ... as a run would train on it
    torchrun --nproc_per_node 2 -m ganlib train ...           # one run on two processes (or GPUs)
    python -m ganlib export | import | config | tensorboard | timelapse ...

Each subcommand is one file here that registers a `Command` (its parser and its `run`) in
`commands.COMMANDS`; `main` builds the parser from that registry. stdout carries only results
(the run folder, the output file, the runs table) so that scripts can capture them; progress,
per-epoch summaries and errors go to stderr. A user error is one line `error: ...` on stderr
and exit code 2, never a traceback; a failed or diverged run exits 1, Ctrl-C 130.
"""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

from ganlib import __version__
from ganlib.cli.commands import COMMANDS, INTERRUPTED, OK, USAGE, CLIError, eprint, one_line
from ganlib.core.errors import UserError

# Each import registers one subcommand; the order is that of `python -m ganlib --help`.
# isort: off
from ganlib.cli import train, sample, runs, fork, fid, metrics  # noqa: F401, E402
from ganlib.cli import export, import_run, config, tensorboard, timelapse  # noqa: F401, E402
from ganlib.cli import translate  # noqa: F401, E402
from ganlib.cli import augment  # noqa: F401, E402
from ganlib.cli import style_mix, ppl  # noqa: F401, E402
from ganlib.cli import sweep  # noqa: F401, E402
from ganlib.cli import users  # noqa: F401, E402
from ganlib.cli import data  # noqa: F401, E402
from ganlib.cli import families  # noqa: F401, E402
# isort: on

# Errors a user can fix (`core.errors.UserError`: ConfigError, NotFound, UnknownName, RunBusy,
# DatasetUnavailable, ImportRefused, CLIError...): printed as one line, exit code 2; so is the
# system's refusal of a path the user named (an OSError with its filename). Any other exception
# is a bug and keeps its traceback.
USER_ERRORS = (UserError,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ganlib", allow_abbrev=False,
        description="GAN Workbench from the command line: train GANs, sample them, list runs, "
                    "compute FID between image folders and evaluate runs.",
        epilog="Runs live under --runs-dir (default: $GANLIB_RUNS_DIR or the repo's checkpoints/). "
               "Exit codes: 0 done, 1 run failed or diverged, 2 bad arguments, 130 stopped by Ctrl-C.")
    parser.add_argument("--version", action="version", version=f"ganlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        COMMANDS.get(name).add_parser(sub)
    return parser


def unknown_argument(command: str, extras: list[str]) -> Exception:
    """An argument the parser did not know: the command may name an unknown `--flag` itself
    (train names the config field it looks like); anything else is a plain one-line error."""
    first = next((a for a in extras if a.startswith("-")), extras[0])
    named = COMMANDS.get(command).unknown_flag
    if named is not None and first.startswith("--"):
        return named(first)
    return CLIError(f"unrecognized argument {first!r} for {command} (see python -m ganlib {command} --help)")


def error_message(e: BaseException) -> str:
    return one_line(str(e) or type(e).__name__)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as e:  # argparse's own errors (usage + one line, code 2) and --help (0)
        return e.code if isinstance(e.code, int) else (OK if e.code is None else USAGE)
    try:
        if extras:
            raise unknown_argument(args.command, extras)
        return COMMANDS.get(args.command).run(args)
    except USER_ERRORS as e:
        eprint(f"error: {error_message(e)}")
        return USAGE
    except OSError as e:
        if e.filename is None:  # not the system's answer about a file the user named: a bug
            raise
        eprint(f"error: {e.filename}: {e.strerror or type(e).__name__}")  # --out into a missing folder, ...
        return USAGE
    except KeyboardInterrupt:
        eprint("\ninterrupted")
        return INTERRUPTED

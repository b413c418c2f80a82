"""The command line: `python -m ganlib train | sample | runs`.

    python -m ganlib train --dataset mnist5k --model mlp_gan --epochs 5
    python -m ganlib train --resume 00003-mlp_gan-mnist5k --epochs 20
    python -m ganlib sample 00003-mlp_gan-mnist5k --n 64 --out grid.png
    python -m ganlib runs

Every TrainConfig field is a `train` flag, generated from the dataclass, so a new field needs no
CLI change; values go through `TrainConfig.from_dict`, the one place they are checked.
stdout carries only results (the run folder, the output file, the runs table) so that scripts
can capture them; progress, per-epoch summaries and errors go to stderr. A bad argument is one
line `error: ...` on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import time
import typing
from pathlib import Path
from typing import Any, Optional, Sequence

from ganlib import __version__
from ganlib.config import ConfigError, TrainConfig, field_specs
from ganlib.data import DatasetUnavailable
from ganlib.runs import LIVE_STATES, Run, find_run, list_runs, runs_dir

# Exit codes.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130

# Fields that `train --resume` may change: they steer the loop, not the models, the data or the
# optimiser state stored in the checkpoint. Any other field given with --resume must equal the
# run's value (so a script may repeat its flags), else it is an error.
RESUME_FIELDS = ("epochs", "device", "sample_every", "checkpoint_every")

# Registry names used as `choices` in the field metadata.
_REGISTRIES = {"datasets": ("ganlib.data", "DATASETS"), "models": ("ganlib.models", "MODELS"),
               "losses": ("ganlib.losses", "LOSSES")}


class CLIError(Exception):
    """A user error found by the CLI itself; printed as `error: <message>`, exit code 2."""


# ---- argument parser ----------------------------------------------------------------------------
def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _choices(spec: Any) -> Optional[list[str]]:
    if isinstance(spec, str) and spec in _REGISTRIES:
        import importlib

        module, attr = _REGISTRIES[spec]
        return list(getattr(importlib.import_module(module), attr).names())
    if isinstance(spec, (list, tuple)):
        return [str(c) for c in spec]
    return None


def _field_help(f: dataclasses.Field) -> str:
    meta = f.metadata
    text = meta.get("help", "")
    choices = _choices(meta.get("choices")) if isinstance(meta.get("choices"), str) else None
    if choices:  # registry names; a list of choices is already spelled out in the help
        text += f" One of: {', '.join(choices)}."
    default = "empty" if f.default is None else ("''" if f.default == "" else f.default)
    text += f" (default: {default})"
    return text.replace("%", "%%")  # argparse formats help with %


def _metavar(f: dataclasses.Field) -> str:
    hint = typing.get_type_hints(TrainConfig)[f.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if args else hint
    if base in (int, float):
        return "N" if base is int else "X"
    return {"dataset": "NAME", "model": "NAME", "loss": "NAME", "data_path": "PATH", "device": "DEV"}.get(f.name, "VALUE")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One `--field-name VALUE` flag per TrainConfig field, plus a hidden `--field_name` twin.
    Values stay strings (default: absent) and are coerced and checked by TrainConfig.from_dict."""
    group = parser.add_argument_group(
        "training config (every TrainConfig field; --batch_size works as well as --batch-size)")
    for f in field_specs():
        group.add_argument(flag(f.name), dest=f"cfg_{f.name}", metavar=_metavar(f),
                           default=argparse.SUPPRESS, help=_field_help(f))
        if "_" in f.name:
            group.add_argument("--" + f.name, dest=f"cfg_{f.name}", default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ganlib", allow_abbrev=False,
        description="GAN Workbench from the command line: train GANs, sample them, list runs.",
        epilog="Runs live under --runs-dir (default: $GANLIB_RUNS_DIR or the repo's checkpoints/). "
               "Exit codes: 0 done, 1 run failed or diverged, 2 bad arguments, 130 stopped by Ctrl-C.")
    parser.add_argument("--version", action="version", version=f"ganlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    runs_dir_help = "folder holding the runs (default: $GANLIB_RUNS_DIR or the repo's checkpoints/)"

    # train
    tr = sub.add_parser(
        "train", allow_abbrev=False, help="train a new run, or continue one with --resume",
        description="Train a GAN. Prints the run folder on stdout at the end; progress and one line "
                    "per epoch go to stderr. Ctrl-C stops after the current step, saves the last good "
                    "epoch as a checkpoint and exits with 130 (Ctrl-C twice quits at once).",
        epilog="--resume RUN continues RUN (a folder or a run name) from its latest checkpoint up to "
               "--epochs epochs in total (default: the run's own epoch count). With --resume only "
               f"{', '.join(flag(n) for n in RESUME_FIELDS)} may change; the other config flags must "
               "be left out or equal the run's values, since the checkpoint's models, data and "
               "optimiser state were built from them.")
    tr.add_argument("--resume", metavar="RUN", help="continue this run (a run folder or a run name under --runs-dir)")
    tr.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    tr.add_argument("--no-progress", "--no_progress", action="store_true",
                    help="no progress bar (the per-epoch lines are still printed)")
    add_config_flags(tr)
    tr.set_defaults(func=cmd_train)

    # sample
    sa = sub.add_parser(
        "sample", allow_abbrev=False, help="draw images from a trained run's generator",
        description="Draw N images from a run's generator and write them as a PNG grid or as an .npz "
                    "holding `images` (uint8, N x H x W for grayscale, else N x C x H x W) and `labels` "
                    "(-1 for unconditional runs). Prints the output path on stdout.")
    sa.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    sa.add_argument("--out", "-o", required=True, metavar="FILE", help="output file: .png or .npz")
    sa.add_argument("--n", type=int, default=64, metavar="N", help="number of images (default: 64)")
    sa.add_argument("--label", type=int, metavar="K",
                    help="class for every image (conditional runs only; default: cycle through the classes)")
    sa.add_argument("--seed", type=int, metavar="S",
                    help="noise seed; the same seed draws the same images (default: random, printed)")
    sa.add_argument("--checkpoint", metavar="FILE",
                    help="checkpoint file, or its name in the run's ckpt/ (default: the latest)")
    sa.add_argument("--device", default="cpu", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: cpu)")
    sa.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    sa.set_defaults(func=cmd_sample)

    # runs
    ru = sub.add_parser("runs", allow_abbrev=False, help="list the runs as a table",
                        description="List the runs: name, status, model, dataset, epochs done, last losses.")
    ru.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    ru.set_defaults(func=cmd_runs)

    # Further subcommands (fid, metrics, ...) are one add_parser + one cmd_* function each.
    return parser


def config_values(args: argparse.Namespace) -> dict[str, str]:
    """The config fields given on the command line, as strings, in field order."""
    return {f.name: getattr(args, f"cfg_{f.name}") for f in field_specs() if hasattr(args, f"cfg_{f.name}")}


def unknown_flag_error(command: str, extras: list[str]) -> Exception:
    """An argument the parser did not know: for `train`, an unknown field flag is named as a
    ConfigError would name it; anything else is a plain one-line error."""
    first = next((a for a in extras if a.startswith("-")), extras[0])
    if command == "train" and first.startswith("--"):
        import difflib

        name = first[2:].split("=", 1)[0].replace("-", "_")
        fields = [f.name for f in field_specs()]
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {flag(close[0])}?" if close else f"fields are {', '.join(fields)}"
        return ConfigError(name, f"not a config field or train option; {hint}")
    return CLIError(f"unrecognized argument {first!r} for {command} (see python -m ganlib {command} --help)")


# ---- train ---------------------------------------------------------------------------------------
def _done_epochs(run: Run) -> int:
    """The epoch a resume starts from: that of the latest checkpoint (the engine drops later rows)."""
    ck = run.checkpoints()
    return ck[-1][0] if ck else 0


def resume_config(run: Run, given: dict[str, str]) -> TrainConfig:
    cfg = run.config()
    new = cfg.replace(**given) if given else cfg
    for name in given:
        if name not in RESUME_FIELDS and getattr(new, name) != getattr(cfg, name):
            raise ConfigError(name, f"cannot change when resuming (the run has {getattr(cfg, name)!r}); "
                                    f"with --resume only {', '.join(flag(n) for n in RESUME_FIELDS)} may change")
    return new


class _Interrupt:
    """Turns the first Ctrl-C into a polite stop request (the engine then saves its last good
    epoch); a second Ctrl-C raises KeyboardInterrupt as usual."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True  # no printing here: the handler may run inside a tqdm update

    def install(self) -> None:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: no signal handling, Ctrl-C is not ours to catch
            self.previous = None

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def _fmt_epoch(row: dict[str, float], epochs: int) -> str:
    r = {k: row.get(k, float("nan")) for k in ("d_loss", "g_loss", "d_real", "d_fake", "images_per_sec",
                                               "epoch_time_s")}
    return (f"epoch {int(row['epoch']):>{len(str(epochs))}}/{epochs}  d_loss {r['d_loss']:.4f}  "
            f"g_loss {r['g_loss']:.4f}  D(x) {r['d_real']:.3f}  D(G(z)) {r['d_fake']:.3f}  "
            f"{r['images_per_sec']:,.0f} img/s  {r['epoch_time_s']:.1f}s")


def cmd_train(args: argparse.Namespace) -> int:
    from ganlib.training import Callbacks, train

    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in requirements.txt; without it there is just no bar
        tqdm = None

    given = config_values(args)
    resume: Optional[Run] = None
    if args.resume:
        resume = find_run(args.resume, args.runs_dir)
        st = resume.status()
        if st.get("state") in LIVE_STATES:
            raise CLIError(f"run {resume.name} is {st['state']} in process {st.get('pid')}; stop it before resuming")
        cfg = resume_config(resume, given)
        done = _done_epochs(resume)
        if cfg.epochs < done:
            raise ConfigError("epochs", f"run {resume.name} already has {done} epochs; pass --epochs {done} or more")
        if cfg.epochs == done and st.get("state") == "completed":
            eprint(f"run {resume.name} already has {done} of {cfg.epochs} epochs; "
                   f"pass --epochs above {done} to train further")
            print(resume.path)
            return OK
        eprint(f"resuming {resume.path} from epoch {done} up to {cfg.epochs} epochs")
    else:
        cfg = TrainConfig.from_dict(given)

    bar = None
    interrupt = _Interrupt()
    announced = False

    def on_start(run: Run) -> None:
        if resume is None:
            eprint(f"run folder: {run.path}")
        interrupt.install()  # only now: a Ctrl-C while loading data simply aborts

    def on_progress(p) -> None:
        nonlocal bar
        if tqdm is None or args.no_progress:
            return
        done = (p.epoch - 1) * p.steps_per_epoch + p.step
        if bar is None:
            bar = tqdm(total=p.epochs * p.steps_per_epoch, initial=(p.epoch - 1) * p.steps_per_epoch,
                       unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)
        bar.set_description(f"epoch {p.epoch}/{p.epochs}", refresh=False)
        bar.update(done - bar.n)

    def say(line: str) -> None:
        if bar is not None:
            bar.write(line, file=sys.stderr)  # clears the bar, writes, redraws it
        else:
            eprint(line)

    def on_epoch(row: dict[str, float]) -> None:
        say(_fmt_epoch(row, cfg.epochs))

    def should_stop() -> bool:
        nonlocal announced
        if interrupt.requested and not announced:
            announced = True
            say("stopping: the last finished epoch, if any, is saved as a checkpoint (Ctrl-C again quits at once)")
        return interrupt.requested

    t0 = time.perf_counter()
    try:
        result = train(cfg, runs_dir=args.runs_dir, resume=resume.path if resume else None,
                       callbacks=Callbacks(on_start=on_start, on_progress=on_progress, on_epoch=on_epoch,
                                           should_stop=should_stop))
    finally:
        interrupt.restore()
        if bar is not None:
            bar.close()

    run, dt = result.run, time.perf_counter() - t0
    if result.state == "completed":
        eprint(f"completed {result.epoch}/{cfg.epochs} epochs in {dt:.1f}s")
        print(run.path)
        return OK
    if result.state == "stopped":
        ck = run.latest_checkpoint()
        eprint(f"stopped at epoch {result.epoch}/{cfg.epochs}; "
               + (f"last checkpoint {ck}; " if ck else "no epoch finished, no checkpoint; ")
               + f"continue with: python -m ganlib train --resume {run.path}")
        print(run.path)
        return INTERRUPTED if interrupt.requested else FAILED
    # diverged or failed: the engine kept the last good checkpoint and the traceback in status.json
    eprint(f"error: run {run.name} {result.state} at epoch {result.epoch}: {one_line(result.error or '')}")
    if result.state == "failed":
        eprint(f"the traceback is in {run.path / 'status.json'}")
    print(run.path)
    return FAILED


# ---- sample --------------------------------------------------------------------------------------
def cmd_sample(args: argparse.Namespace) -> int:
    out = Path(args.out)
    kind = out.suffix.lower()
    if kind not in (".png", ".npz"):
        raise CLIError(f"--out must end in .png or .npz, got {args.out!r}")
    run = find_run(args.run, args.runs_dir)

    from ganlib.config import DEVICE_RE
    from ganlib.sampling import generate
    from ganlib.training import resolve_device

    if not DEVICE_RE.match(args.device):
        raise CLIError(f"--device must be auto, cpu, cuda or cuda:N, got {args.device!r}")
    device = str(resolve_device(args.device))

    seed = args.seed
    if seed is None:
        import numpy as np

        seed = int(np.random.SeedSequence().entropy % 2**31)
    samples = generate(run, args.n, seed=seed, labels=args.label, checkpoint=args.checkpoint, device=device)
    data = samples.png() if kind == ".png" else samples.npz()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if args.seed is None:
        eprint(f"seed {seed} (pass --seed {seed} to draw the same images again)")
    print(out)
    return OK


# ---- runs ----------------------------------------------------------------------------------------
RUN_COLUMNS = ("run", "status", "model", "dataset", "epoch", "d_loss", "g_loss")


def runs_table(rows: list[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any], col: str) -> str:
        if col == "epoch":
            return f"{row['epoch']}/{row['epochs'] if row.get('epochs') is not None else '?'}"
        v = row.get(col)
        if v is None or v == "":
            return "-"
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    table = [list(RUN_COLUMNS)] + [[cell(r, c) for c in RUN_COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(RUN_COLUMNS))]
    numeric = {"epoch", "d_loss", "g_loss"}
    lines = []
    for line in table:
        cells = [v.rjust(w) if c in numeric else v.ljust(w) for v, w, c in zip(line, widths, RUN_COLUMNS)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(args.runs_dir)
    if not runs:
        eprint(f"no runs in {runs_dir(args.runs_dir)}")
        return OK
    print(runs_table([r.summary() for r in runs]))
    return OK


# ---- entry point ---------------------------------------------------------------------------------
def eprint(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


def one_line(message: str) -> str:
    return " ".join(str(message).split())


def error_message(e: BaseException) -> str:
    # KeyError's str() is the repr of its argument; the registries put a sentence there.
    if isinstance(e, KeyError) and e.args:
        return one_line(e.args[0])
    return one_line(str(e) or type(e).__name__)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as e:  # argparse's own errors (usage + one line, code 2) and --help (0)
        return e.code if isinstance(e.code, int) else (OK if e.code is None else USAGE)
    try:
        if extras:
            raise unknown_flag_error(args.command, extras)
        return args.func(args)
    except (ConfigError, DatasetUnavailable, CLIError, FileNotFoundError, ValueError, KeyError, OSError) as e:
        eprint(f"error: {error_message(e)}")
        return USAGE
    except KeyboardInterrupt:
        eprint("\ninterrupted")
        return INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

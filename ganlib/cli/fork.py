"""`python -m ganlib fork RUN --lr-g ...`: a new run from RUN's checkpoint with some
hyperparameters changed; `train --resume` then trains it."""
from __future__ import annotations

import argparse
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, Command, eprint
from ganlib.cli.flags import add_config_flags, add_runs_dir, config_values
from ganlib.engine.forks import fork
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fork", allow_abbrev=False, help="branch a new run from a checkpoint with edited hyperparameters",
        description="Create a new run that starts from RUN's checkpoint with its full state (models, "
                    "optimisers, RNG, epoch, metric history) and the config flags given here changed. "
                    "Architecture, data and loss stay the parent's. Prints the fork's folder; train it with "
                    "`python -m ganlib train --resume FOLDER`.")
    p.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    p.add_argument("--checkpoint", metavar="NAME", help="e.g. epoch_0010.pt or best.pt (default: the latest)")
    add_runs_dir(p)
    add_config_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    parent = find_run(args.run, args.runs_dir)
    checkpoint = None
    if args.checkpoint:
        checkpoint = find_checkpoint(parent, args.checkpoint)
    new = fork(parent, config_values(args), checkpoint=checkpoint, runs_dir=args.runs_dir)
    eprint(new.status().get("notes", [""])[0])
    print(new.path)
    return OK


COMMANDS.add("fork", Command(add_parser, run))

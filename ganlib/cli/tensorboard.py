"""`python -m ganlib tensorboard [RUN ...]`: TensorBoard event files from each run's metrics.csv,
for `tensorboard --logdir <runs-dir>`."""
from __future__ import annotations

import argparse
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, Command, eprint
from ganlib.cli.flags import SHORT_RUNS_DIR_HELP, add_runs_dir
from ganlib.interchange.tensorboard import write_tensorboard, write_tensorboard_all
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("tensorboard", allow_abbrev=False, help="write TensorBoard event files from metrics.csv",
                       description="Write <run>/tb/events.out.tfevents.*.ganlib for each RUN (default: every run), "
                                   "then: tensorboard --logdir <runs-dir>. Prints each file written.")
    p.add_argument("runs", nargs="*", metavar="RUN")
    add_runs_dir(p, SHORT_RUNS_DIR_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    paths = ([write_tensorboard(find_run(r, args.runs_dir)) for r in args.runs] if args.runs
             else write_tensorboard_all(args.runs_dir))
    for p in paths:
        print(p)
    if not paths:
        eprint("no runs with metrics")
    return OK


COMMANDS.add("tensorboard", Command(add_parser, run))

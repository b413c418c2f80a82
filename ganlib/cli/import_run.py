"""`python -m ganlib import FILE`: a run zip or a weights file brought in as a new run (checked,
never unpickled); named import_run because `import` is a keyword."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import SHORT_RUNS_DIR_HELP, add_runs_dir
from ganlib.interchange.config_files import load_config_file
from ganlib.interchange.importing import import_file
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("import", allow_abbrev=False, help="import a run zip or a weights file as a new run",
                       description="Import FILE (.zip from `export`, .safetensors, or a .pt/.pth state dict read "
                                   "with weights_only=True) as a new run that can be sampled. Prints the new run "
                                   "folder. A bare weights file needs --config or --from-run unless it carries "
                                   "its config.")
    p.add_argument("file")
    p.add_argument("--config", metavar="FILE", help="the TrainConfig the weights were trained with (.json/.yaml)")
    p.add_argument("--from-run", "--from_run", metavar="RUN", help="use this run's config")
    p.add_argument("--num-classes", "--num_classes", type=int, metavar="N",
                   help="classes of a conditional model (default: stored in the file, else 10)")
    p.add_argument("--epoch", type=int, metavar="N",
                   help="epoch to file bare weights under (default: the config's epochs)")
    add_runs_dir(p, SHORT_RUNS_DIR_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    if args.config and args.from_run:
        raise CLIError("give --config or --from-run, not both")
    cfg = load_config_file(args.config) if args.config else (
        find_run(args.from_run, args.runs_dir).config() if args.from_run else None)
    new = import_file(Path(args.file), cfg=cfg, num_classes=args.num_classes, epoch=args.epoch,
                      runs_root=args.runs_dir)
    print(new.path)
    return OK


COMMANDS.add("import", Command(add_parser, run))

"""`python -m ganlib config RUN`: the run's TrainConfig as JSON or YAML, which
`train --config FILE` reproduces."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, Command
from ganlib.cli.flags import SHORT_RUNS_DIR_HELP, add_runs_dir
from ganlib.core.atomic import atomic_write_text
from ganlib.interchange.config_files import config_text
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("config", allow_abbrev=False, help="print or write a run's config as JSON or YAML",
                       description="Write RUN's TrainConfig as JSON or YAML; `train --config FILE` reproduces it.")
    p.add_argument("run")
    p.add_argument("--format", choices=["json", "yaml"], help="default: from --out's extension, else json")
    p.add_argument("--out", metavar="FILE", help="default: print to stdout")
    add_runs_dir(p, SHORT_RUNS_DIR_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    cfg = find_run(args.run, args.runs_dir).config()
    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "json")
    text = config_text(cfg, fmt)  # an --out of another kind is a one-line error naming the format
    if args.out:
        print(atomic_write_text(args.out, text))
    else:
        sys.stdout.write(text)
    return OK


COMMANDS.add("config", Command(add_parser, run))

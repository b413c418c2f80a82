"""`python -m ganlib export RUN`: the run as a zip (config, metrics, grids, safetensors weights)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import SHORT_RUNS_DIR_HELP, add_runs_dir
from ganlib.interchange.export import write_export
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("export", allow_abbrev=False, help="write a run as a zip (config, metrics, grids, weights)",
                       description="Write RUN as a zip: manifest.json, config.json, metrics.csv, evals.jsonl, "
                                   "samples/*.png and weights/{G,D,G_ema}.safetensors from one checkpoint. "
                                   "Prints the zip's path.")
    p.add_argument("run")
    p.add_argument("--out", metavar="FILE.zip", help="default: <runs-dir>/<run>.zip")
    p.add_argument("--checkpoint", metavar="NAME", help="e.g. epoch_0010.pt or best.pt (default: the latest)")
    add_runs_dir(p, SHORT_RUNS_DIR_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".zip":
        raise CLIError(f"--out must end in .zip, got {out.name!r}")
    print(write_export(find_run(args.run, args.runs_dir), out, args.checkpoint))
    return OK


COMMANDS.add("export", Command(add_parser, run))

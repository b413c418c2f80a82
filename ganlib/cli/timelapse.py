"""`python -m ganlib timelapse RUN`: a run's fixed-noise grids across epochs as a GIF or an MP4,
chosen by --out's extension."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import add_runs_dir
from ganlib.core.atomic import atomic_write_bytes
from ganlib.explore.timelapse import FORMATS
from ganlib.store.run_folder import find_run

DESCRIPTION = ("Write a run's fixed-noise grids as an animated GIF or MP4 (by --out's extension), the epoch "
               "written above each frame. Prints the file on stdout.")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("timelapse", allow_abbrev=False, help="animate a run's sample grids across epochs",
                       description=DESCRIPTION)
    p.add_argument("run", help="a run folder or a run name under --runs-dir")
    p.add_argument("--out", metavar="FILE", help="FILE.gif or FILE.mp4 (default: <run>/timelapse.gif)")
    p.add_argument("--fps", type=float, default=4.0, help="frames per second (default: 4)")
    p.add_argument("--scale", type=int, default=1, help="enlarge each grid this many times (default: 1)")
    add_runs_dir(p, "folder holding the runs")
    return p


def run(args: argparse.Namespace) -> int:
    source = find_run(args.run, args.runs_dir)
    out = Path(args.out) if args.out else source.path / "timelapse.gif"
    if not 0 < args.fps <= 60:
        raise CLIError(f"--fps must be in (0, 60], got {args.fps}")
    if not 1 <= args.scale <= 16:
        raise CLIError(f"--scale must be between 1 and 16, got {args.scale}")
    encode = FORMATS.get(out.suffix.lower())
    if encode is None:
        raise CLIError(f"--out must end in .gif or .mp4, got {out.name!r}")
    atomic_write_bytes(out, encode(source, fps=args.fps, scale=args.scale))
    print(out)
    return OK


COMMANDS.add("timelapse", Command(add_parser, run))

"""`python -m ganlib data pack PATH --out data.zip`: the images as stylegan2-ada's dataset zip."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import OK, Command, FractionBar, eprint
from ganlib.cli.data import DATA_COMMANDS, add_read_flags, read_options
from ganlib.data.dataset_zip import write_dataset_zip
from ganlib.data.inspection import inspect


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "pack", allow_abbrev=False, help="write the images as a dataset zip (stylegan2-ada's layout)",
        description="Reads every image as a run would (size, channels, background, crop) and writes them as "
                    "uniform PNGs in stylegan2-ada's dataset zip layout (00000/img00000000.png ..., dataset.json "
                    "with the labels of class subfolders). Train on it with --dataset zip --data-path FILE.")
    p.add_argument("path", metavar="PATH", help="a folder of images (class subfolders become labels) or a .zip")
    p.add_argument("--out", required=True, metavar="FILE", help="the .zip to write")
    p.add_argument("--no-progress", "--no_progress", action="store_true", help="no progress bar")
    add_read_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    read = read_options(args, inspect(args.path))
    bar = FractionBar(not args.no_progress)
    try:
        n, skipped = write_dataset_zip(args.path, Path(args.out), read, bar)
    finally:
        bar.close()
    if skipped:
        eprint(f"skipped {len(skipped)} files (first: {skipped[0]})")
    eprint(f"{n:,} images at {read.size}x{read.size} written")
    print(args.out)
    return OK


DATA_COMMANDS.add("pack", Command(add_parser, run))

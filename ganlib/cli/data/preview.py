"""`python -m ganlib data preview PATH --out grid.png`: images exactly as a run trains on them."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import OK, Command, eprint
from ganlib.cli.data import DATA_COMMANDS, add_read_flags, read_options
from ganlib.core.atomic import atomic_write_bytes
from ganlib.core.images import png_bytes
from ganlib.data.inspection import inspect, preview_grid


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "preview", allow_abbrev=False, help="a grid of the images as a run would train on them",
        description="Writes a PNG grid of images read exactly as a run with these settings trains on them "
                    "(size, channels, background, crop): one row per class for labelled data, else a square grid.")
    p.add_argument("path", metavar="PATH", help="a folder of images or a .zip")
    p.add_argument("--out", required=True, metavar="FILE", help="the PNG to write")
    p.add_argument("--n", type=int, default=64, metavar="N", help="images in the grid (default: 64)")
    add_read_flags(p)
    return p


def run(args: argparse.Namespace) -> int:
    report = inspect(args.path)
    read = read_options(args, report)
    image, shown = preview_grid(args.path, read, max(1, min(args.n, 400)))
    out = atomic_write_bytes(Path(args.out), png_bytes(image))
    eprint(f"{shown} images at {read.size}x{read.size}, {'colour' if read.channels == 3 else 'gray'}, "
           f"on {read.background}, {read.resize_mode}")
    print(out)
    return OK


DATA_COMMANDS.add("preview", Command(add_parser, run))

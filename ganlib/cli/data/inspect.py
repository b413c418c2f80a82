"""`python -m ganlib data inspect PATH [--json]`: what a folder or zip of images holds."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ganlib.cli.commands import OK, Command
from ganlib.cli.data import DATA_COMMANDS
from ganlib.data.inspection import inspect


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "inspect", allow_abbrev=False, help="counts, classes, sizes, modes, skipped files, duplicates, suggestions",
        description="What a folder (or zip) of images holds, from the files' headers: how many images, the "
                    "classes (subfolders) with counts, the sizes (smallest, median, largest), the modes (alpha, "
                    "16-bit, palette, CMYK named), the files that will be skipped and why, exact duplicates, "
                    "and the image size and channels the data suggests.")
    p.add_argument("path", metavar="PATH", help="a folder of images (class subfolders become labels) or a .zip")
    p.add_argument("--json", action="store_true", help="print the report as JSON (suggested_image_size, "
                                                       "suggested_channels, n_images, classes, has_alpha, ...)")
    return p


def run(args: argparse.Namespace) -> int:
    report = inspect(args.path)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.lines()))
    return OK


DATA_COMMANDS.add("inspect", Command(add_parser, run))

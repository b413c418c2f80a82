"""`python -m ganlib data inspect|preview|pack PATH`: look at a folder (or zip) of images before
training on it. One file per subcommand here, each registered in DATA_COMMANDS; this package
registers the one `data` command in `cli.commands.COMMANDS` and dispatches to them.

    python -m ganlib data inspect icons/ [--json]             # counts, classes, sizes, modes, skipped, suggestions
    python -m ganlib data preview icons/ --out grid.png       # the images exactly as a run trains on them
    python -m ganlib data pack icons/ --out icons.zip         # stylegan2-ada's dataset zip (the `zip` dataset)

`preview` and `pack` read at the size and channels the data suggests unless --image-size and
--channels are given, and say which in one line on stderr.
"""
from __future__ import annotations

import argparse
from typing import Any

from ganlib.cli.commands import COMMANDS, CLIError, Command, eprint
from ganlib.core.registry import Registry
from ganlib.data.image_files import RESIZE_MODES, ReadOptions
from ganlib.data.inspection import DataReport

DATA_COMMANDS: Registry[Command] = Registry("data command")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("data", allow_abbrev=False, help="inspect, preview or pack a folder (or zip) of images",
                       description="Look at your images before training on them: what the folder holds, how "
                                   "they will be read, and a packed zip of them.")
    inner = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    for name in DATA_COMMANDS:
        DATA_COMMANDS.get(name).add_parser(inner)
    return p


def run(args: argparse.Namespace) -> int:
    return DATA_COMMANDS.get(args.data_command).run(args)


def add_read_flags(p: argparse.ArgumentParser) -> None:
    """How the files are read, as the config fields of a run (same names, same meaning)."""
    p.add_argument("--image-size", "--image_size", type=int, metavar="N",
                   help="square side in pixels (default: the size the data suggests)")
    p.add_argument("--channels", type=int, choices=[1, 3], help="1 gray, 3 colour (default: what the data suggests)")
    p.add_argument("--background", default="white", metavar="COLOUR",
                   help="what transparent pixels become: white (default), black, #rrggbb or r,g,b")
    p.add_argument("--resize-mode", "--resize_mode", default="crop", choices=RESIZE_MODES,
                   help="how a non-square image becomes square: crop its centre (default), pad, or stretch")


def read_options(args: argparse.Namespace, report: DataReport) -> ReadOptions:
    """The flags' options, the data's suggestion for what they leave out (said on stderr)."""
    size = args.image_size or report.suggested_image_size
    channels = args.channels or report.suggested_channels
    if not 8 <= size <= 1024:
        raise CLIError(f"--image-size must be between 8 and 1024, got {size}")
    read = ReadOptions(size, channels, args.background, args.resize_mode)  # a bad --background: one line, first
    if not (args.image_size and args.channels):
        eprint(f"reading at image_size {size}, channels {channels} "
               f"({'as given' if args.image_size else 'suggested by the data'}"
               f"{'' if args.image_size else ': ' + report.why_size}; --image-size and --channels choose)")
    return read

COMMANDS.add("data", Command(add_parser, run))

# Registration: one import per subcommand file.
# isort: off
from ganlib.cli.data import inspect, preview, pack  # noqa: E402,F401
# isort: on

"""`python -m ganlib translate RUN --input FILE_OR_DIR --out DIR [--direction AtoB|BtoA]`:
translate images with a pix2pix or CycleGAN run, one PNG per input."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import add_checkpoint, add_device, add_runs_dir, check_device
from ganlib.explore.sampling import get_generator
from ganlib.explore.translation import check_direction, is_translator, read_inputs, translate_images
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "translate", allow_abbrev=False, help="translate images with a pix2pix or CycleGAN run",
        description="Translate an image, or every image in a folder, with a trained image-to-image run. "
                    "Writes DIR/<name>.png per input (the output alone) and prints the folder. Inputs are "
                    "resized to the run's image size and channels.")
    p.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    p.add_argument("--input", "-i", required=True, metavar="FILE_OR_DIR", help="an image file or a folder of them")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--direction", choices=["AtoB", "BtoA"],
                   help="domain A to B or B to A (default: the way the run trained; the reverse needs a CycleGAN)")
    add_checkpoint(p)
    add_device(p)
    add_runs_dir(p)
    return p


def run(args: argparse.Namespace) -> int:
    source = find_run(args.run, args.runs_dir)
    handle = get_generator(source, args.checkpoint, check_device(args.device))
    if not is_translator(handle):
        raise CLIError(f"run {source.name} is a {handle.config.get('model')} run, not an image-to-image "
                       "translator (pix2pix or cyclegan); use `sample` for it")
    try:
        direction = check_direction(handle, args.direction)
    except ValueError as e:
        raise CLIError(str(e)) from None
    x, names = read_inputs(args.input, int(handle.config["channels"]), int(handle.config["image_size"]))
    pngs = translate_images(handle, x, direction).pngs()
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in zip(names, pngs):
        (folder / f"{name}.png").write_bytes(data)
    print(folder)
    return OK


COMMANDS.add("translate", Command(add_parser, run))

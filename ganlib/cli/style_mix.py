"""`python -m ganlib style-mix RUN --rows 1,2,3 --cols 10,11 --crossover coarse --out FILE.png`:
the StyleGAN paper's style-mixing figure from a stylegan run."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import add_checkpoint, add_runs_dir
from ganlib.core.images import grid_image
from ganlib.explore.style import CROSSOVERS, style_handle, style_mix_grid
from ganlib.store.run_folder import find_run

MAX_SEEDS = 16


def seed_list(text: str, name: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise CLIError(f"{name} takes whole-number seeds separated by commas, got {text!r}") from None
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise CLIError(f"{name} takes 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    return seeds


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "style-mix", allow_abbrev=False, help="a style-mixing grid from a stylegan run",
        description="Rows from one set of seeds, columns from another: each cell takes the row's styles with "
                    "the column's at the coarse, middle or fine layers. Writes a PNG; prints its path.")
    p.add_argument("run", metavar="RUN", help="a stylegan run folder, or its name under --runs-dir")
    p.add_argument("--rows", required=True, metavar="SEEDS", help="seeds of the rows, e.g. 1,2,3")
    p.add_argument("--cols", required=True, metavar="SEEDS", help="seeds of the columns, e.g. 10,11,12")
    p.add_argument("--crossover", choices=list(CROSSOVERS), default="coarse",
                   help="which layers take the column's styles (default: coarse)")
    p.add_argument("--psi", type=float, default=1.0, help="truncation in W, 0 to 1 (default: 1, none)")
    p.add_argument("--out", "-o", required=True, metavar="FILE.png", help="output PNG")
    add_checkpoint(p)
    add_runs_dir(p)
    return p


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CLIError(f"--out must end in .png, got {args.out!r}")
    if not 0.0 <= args.psi <= 1.0:
        raise CLIError(f"--psi must be between 0 and 1, got {args.psi:g}")
    rows, cols = seed_list(args.rows, "--rows"), seed_list(args.cols, "--cols")
    h = style_handle(find_run(args.run, args.runs_dir), args.checkpoint)
    images, ncol = style_mix_grid(h, rows, cols, args.crossover, args.psi)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid_image(images, nrow=ncol, scale=2).save(out)
    print(out)
    return OK


COMMANDS.add("style-mix", Command(add_parser, run))

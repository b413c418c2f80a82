"""`python -m ganlib sample RUN --out FILE`: images from a run's generator, as a PNG grid or an .npz.
A diffusion run's sampler takes `--steps N` (Euler steps) and `--guidance G` (the classifier-free
guidance scale); without them it draws with the run's own settings."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint
from ganlib.cli.flags import add_checkpoint, add_device, add_runs_dir, check_device
from ganlib.explore.sampling import Samples, generate
from ganlib.store.run_folder import find_run

# output suffix -> how the samples are encoded
FORMATS = {".png": Samples.png, ".npz": Samples.npz}


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sample", allow_abbrev=False, help="draw images from a trained run's generator",
        description="Draw N images from a run's generator and write them as a PNG grid or as an .npz "
                    "holding `images` (uint8, N x H x W for grayscale, else N x C x H x W) and `labels` "
                    "(-1 for unconditional runs). Prints the output path on stdout.")
    p.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output file: .png or .npz")
    p.add_argument("--n", type=int, default=64, metavar="N", help="number of images (default: 64)")
    p.add_argument("--label", type=int, metavar="K",
                   help="class for every image (conditional runs only; default: cycle through the classes)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="noise seed; the same seed draws the same images (default: random, printed)")
    p.add_argument("--steps", type=int, metavar="N",
                   help="diffusion runs: Euler steps from the noise to the image, one network evaluation each "
                        "(default: the run's sample_steps)")
    p.add_argument("--guidance", type=float, metavar="G",
                   help="diffusion runs: classifier-free guidance scale; 1 = conditional alone, 0 = unconditional, "
                        "above 1 truer to the label (default: the run's guidance)")
    add_checkpoint(p)
    add_device(p)
    add_runs_dir(p)
    return p


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    encode = FORMATS.get(out.suffix.lower())
    if encode is None:
        raise CLIError(f"--out must end in .png or .npz, got {args.out!r}")
    source = find_run(args.run, args.runs_dir)
    device = check_device(args.device)
    seed = int(np.random.SeedSequence().entropy % 2**31) if args.seed is None else args.seed
    samples = generate(source, args.n, seed=seed, labels=args.label, checkpoint=args.checkpoint, device=device,
                       steps=args.steps, guidance=args.guidance)
    data = encode(samples)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if args.seed is None:
        eprint(f"seed {seed} (pass --seed {seed} to draw the same images again)")
    print(out)
    return OK


COMMANDS.add("sample", Command(add_parser, run))

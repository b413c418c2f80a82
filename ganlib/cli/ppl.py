"""`python -m ganlib ppl RUN --space z|w`: the perceptual path length of a stylegan run's
generator (eps 1e-4, digit-classifier features in place of LPIPS, which is not available offline)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command
from ganlib.cli.flags import add_checkpoint, add_runs_dir
from ganlib.explore.style import PPL_N, SPACES, path_length, style_handle
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "ppl", allow_abbrev=False, help="perceptual path length of a stylegan run in Z or W",
        description="The perceptual path length (Karras et al. 2019) in Z, in W or both, with eps 1e-4 and "
                    "squared distances of the digit classifier's features (LPIPS weights are not available "
                    "offline). Lower is smoother: the StyleGAN paper finds W lower than Z. Prints one line "
                    "per space, or JSON with --json.")
    p.add_argument("run", metavar="RUN", help="a stylegan run folder, or its name under --runs-dir")
    p.add_argument("--space", choices=[*SPACES, "both"], default="both", help="latent space (default: both)")
    p.add_argument("--n", type=int, default=PPL_N, metavar="N", help=f"pairs of images (default: {PPL_N:,})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the pairs (default: 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_checkpoint(p)
    add_runs_dir(p)
    return p


def run(args: argparse.Namespace) -> int:
    if not 10 <= args.n <= 100_000:
        raise CLIError(f"--n must be between 10 and 100,000, got {args.n}")
    h = style_handle(find_run(args.run, args.runs_dir), args.checkpoint)
    spaces = SPACES if args.space == "both" else (args.space,)
    results = [path_length(h, s, n=args.n, seed=args.seed) for s in spaces]
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"PPL in {r['space'].upper()}: {r['ppl']:.4g} ({r['kept']:,} of {r['n']:,} pairs, eps {r['eps']:g}, "
                  f"digit features, epoch {r['epoch']})")
    return OK


COMMANDS.add("ppl", Command(add_parser, run))

"""`python -m ganlib families --budget 60 --seeds 0,1,2 --out DIR`: GAN (the default recipe), VAE
and diffusion (its preset) trained on the same data, seeds and time budget, interleaved, then
measured alike; writes DIR/comparison.json, runs.csv, summary.csv, comparison.html (Plotly) and
comparison.png, and prints the summary and its plain reading. `--runs A B C` compares runs
already trained instead. The work is `ganlib.explore.families`."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint
from ganlib.cli.flags import add_runs_dir
from ganlib.explore import families as fam
from ganlib.explore.families_report import summary_rows, write_outputs
from ganlib.store.run_folder import find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "families", allow_abbrev=False, help="compare GAN, VAE and diffusion on the same data, seeds and budget",
        description="Train the GAN default, a VAE and the diffusion preset for every seed (the families in turn, "
                    "seed by seed) under one time budget, measure each run alike (FID, precision, recall, classes "
                    "covered against wall-clock time; milliseconds and network evaluations per image; diversity) "
                    "and write the table (CSV, JSON) and the plots (HTML, PNG) to --out.")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the table and the plots")
    p.add_argument("--budget", type=float, default=60.0, metavar="S", help="training seconds per run (default: 60)")
    p.add_argument("--seeds", default="0,1,2", metavar="LIST", help="comma-separated seeds (default: 0,1,2)")
    p.add_argument("--families", default=",".join(fam.FAMILIES), metavar="LIST",
                   help=f"comma-separated, of {', '.join(fam.FAMILIES)} (default: all three)")
    p.add_argument("--dataset", default="mnist5k", help="the data every family trains on (default: mnist5k)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="change a config field of every arm (repeatable), e.g. --set max_images=1000")
    p.add_argument("--eval-n", type=int, metavar="N", help="samples per final evaluation (default: each run's own)")
    p.add_argument("--runs", nargs="+", metavar="RUN", help="compare these trained runs instead of training")
    add_runs_dir(p)
    return p


def overrides(pairs: list[str]) -> dict[str, Any]:
    out = {}
    for kv in pairs:
        if "=" not in kv:
            raise CLIError(f"--set takes FIELD=VALUE, got {kv!r}")
        key, value = kv.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    if args.runs:
        result = fam.compare_runs([find_run(r, args.runs_dir) for r in args.runs], n_eval=args.eval_n,
                                  progress=eprint)
    else:
        families = [f.strip() for f in args.families.split(",") if f.strip()]
        if not families or set(families) - set(fam.FAMILIES):
            raise CLIError(f"--families takes {', '.join(fam.FAMILIES)}, got {args.families!r}")
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            raise CLIError(f"--seeds takes comma-separated integers, got {args.seeds!r}") from None
        if not seeds or args.budget <= 0:
            raise CLIError("need at least one seed and a positive --budget")
        result = fam.run_comparison(args.runs_dir, dataset=args.dataset, budget_s=args.budget, seeds=seeds,
                                    families=families, overrides=overrides(args.set), n_eval=args.eval_n,
                                    progress=eprint)
    paths = write_outputs(result, args.out)
    for row in summary_rows(result):
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    for line in fam.reading(result):
        print(line)
    for p in paths:
        print(p)
    return OK


COMMANDS.add("families", Command(add_parser, run))

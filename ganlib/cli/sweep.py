"""`python -m ganlib sweep SPEC.yaml [--address ADDR]`: a grid or random search over config
fields and seeds on Ray Tune, each trial an ordinary run folder under the sweep's folder.

stdout gets only the sweep folder, at the end; Ray Tune's progress, the per-setting table and
the verdicts go to stderr. The spec's format is in `ganlib/store/sweep_spec.py`.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import yaml

from ganlib.cli.commands import COMMANDS, FAILED, OK, CLIError, Command, eprint, one_line
from ganlib.cli.flags import add_runs_dir
from ganlib.explore import sweep_report
from ganlib.store.sweep_folder import Sweep, new_sweep_dir
from ganlib.store.sweep_spec import SweepSpec


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep", allow_abbrev=False, help="a hyperparameter sweep over settings and seeds on Ray Tune",
        description="Run every setting of SPEC (a grid or random draws over config fields) with every seed "
                    "on Ray Tune, each trial the ordinary engine with the spec's time budget, and write "
                    "results.csv (one row per trial), summary.csv (median and IQR over seeds per setting) and "
                    "verdicts.json into the sweep folder. Prints the sweep folder on stdout.",
        epilog="SPEC is YAML or JSON: name, base (config fields), grid or random (+ samples), seeds, "
               "time_budget, quality_fid, asha, cpus_per_trial, gpus_per_trial, max_concurrent.")
    p.add_argument("spec", metavar="SPEC", help="the sweep spec (.yaml, .yml or .json)")
    p.add_argument("--address", metavar="ADDR",
                   help="an existing Ray cluster (e.g. auto, or ray://head:10001); default: a local Ray "
                        "started for this sweep. The runs folder must be storage every node sees.")
    p.add_argument("--num-cpus", "--num_cpus", type=int, metavar="N",
                   help="CPUs the local Ray may use (default: all)")
    p.add_argument("--sweep-dir", "--sweep_dir", metavar="DIR",
                   help="run into this existing sweep folder (what the Sweeps page creates) instead of a new one")
    p.add_argument("--quiet", action="store_true", help="no Ray Tune progress table")
    add_runs_dir(p)
    return p


def load_spec(path: str) -> SweepSpec:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"sweep spec {path}: no such file")
    try:
        values = yaml.safe_load(p.read_text(encoding="utf-8"))  # JSON is YAML too
    except yaml.YAMLError as e:
        raise CLIError(f"sweep spec {p.name}: not valid YAML: {one_line(str(e))}") from None
    return SweepSpec.from_dict(values)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.1f}"
    return str(v)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    sweep = Sweep(Path(args.sweep_dir)) if args.sweep_dir else new_sweep_dir(spec, args.runs_dir)
    if args.sweep_dir:
        sweep.path.mkdir(parents=True, exist_ok=True)
        sweep.save_spec(spec)
    n = len(spec.settings()) * len(spec.seeds)
    eprint(f"sweep folder: {sweep.path} ({n} trials, {spec.time_budget:g} s each)")
    sweep.write_status(state="running", pid=os.getpid(), trials=n, error=None)
    from ganlib.engine.sweeps import run_sweep  # Ray loads only for this command (seconds of imports)

    try:
        with contextlib.redirect_stdout(sys.stderr):  # Ray Tune prints its tables: stdout is for the result
            reports = run_sweep(sweep, address=args.address, num_cpus=args.num_cpus, verbose=0 if args.quiet else 1)
    except Exception as e:  # noqa: BLE001 - Ray's own failures (no cluster at ADDR, ...) are recorded
        sweep.write_status(state="failed", error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
        raise
    table = sweep_report.write_tables(sweep)
    failed = [r for r in reports if r.get("error") or r.get("state") not in ("completed", None)]
    eprint("setting | seeds | FID median (IQR) | reached quality | time to quality median (IQR) s")
    for r in table:
        eprint(f"{r['setting']} | {r['seeds']} | {_fmt(r['fid_median'])} ({_fmt(r['fid_q1'])}-{_fmt(r['fid_q3'])}) | "
               f"{r['reached_quality']} | {_fmt(r['ttq_median_s'])} ({_fmt(r['ttq_q1_s'])}-{_fmt(r['ttq_q3_s'])})")
    for v in sweep_report.verdicts(table):
        eprint(v["text"])
    sweep.write_status(state="failed" if failed else "completed",
                       error=f"{len(failed)} of {n} trials failed" if failed else None)
    print(sweep.path)
    return FAILED if failed else OK


COMMANDS.add("sweep", Command(add_parser, run))

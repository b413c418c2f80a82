"""Trains the short real runs behind the verdict's rule tests and keeps what the rules read as
small fixtures: tests/fixtures/health/<case>/{metrics.csv, evals.jsonl, status.json, config.json}
(evals.jsonl without its per-class arrays, so each case is a few KB).

The cases (issue 22): the default recipe on digits (healthy), a run that collapses, a folder of
transparent colour icons read on black (as the reader did before issue 21) and judged with the
digit classifier as `auto` once did, and colour emoji at the wrong size (28 px). Each run is a few
epochs on 2 CPU cores; `--case` makes one again.

    nice -n 5 python benchmarks/health_cases.py --out tests/fixtures/health [--case NAME]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ICONS = "/usr/share/icons/Adwaita/48x48/legacy"
COMMON = ["--epochs", "3", "--eval-every", "1", "--eval-samples", "256", "--max-images", "512", "--no-progress",
          "--seed", "0"]
CASES: dict[str, list[str]] = {
    "healthy_default": ["--dataset", "mnist5k", "--max-images", "5000", "--epochs", "10", "--eval-every", "5",
                        "--eval-samples", "2000"],
    "collapsed": ["--dataset", "mnist5k", "--model", "mlp_gan", "--lr-g", "0.005", "--lr-d", "0.005", "--beta1", "0.9"],
    "icons_on_black": ["--dataset", "folder", "--data-path", ICONS, "--channels", "1", "--image-size", "32",
                       "--background", "black", "--extractor", "digits", "--model", "dcgan"],
    "colour_28px": ["--dataset", "emoji", "--channels", "3", "--image-size", "28"],
}


def slim(record: dict) -> dict:
    """The record without what the rules never read: per-class tables and long arrays (the class
    histograms, a few numbers each, stay: they give the number of classes)."""
    return {k: v for k, v in record.items() if not isinstance(v, dict) and not (isinstance(v, list) and len(v) > 50)}


def make(case: str, out: Path) -> dict:
    with tempfile.TemporaryDirectory() as runs:
        t0 = time.time()
        cmd = [sys.executable, "-m", "ganlib", "train", "--runs-dir", runs, *COMMON, *CASES[case]]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        run = next(Path(runs).iterdir(), None)
        if run is None:
            raise SystemExit(f"{case}: no run folder\n{proc.stderr[-2000:]}")
        dest = out / case
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.csv", "status.json", "config.json"):
            if (run / name).is_file():
                shutil.copy(run / name, dest / name)
        records = [slim(json.loads(line)) for line in (run / "evals.jsonl").read_text().splitlines() if line.strip()]
        (dest / "evals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        (dest / "command.txt").write_text(" ".join(["python -m ganlib train", *COMMON, *CASES[case]]) + "\n")
        return {"case": case, "rc": proc.returncode, "seconds": round(time.time() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/fixtures/health")
    ap.add_argument("--case", choices=sorted(CASES), action="append")
    args = ap.parse_args(argv)
    for case in args.case or list(CASES):
        print(json.dumps(make(case, Path(args.out))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

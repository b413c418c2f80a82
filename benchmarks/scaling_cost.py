"""The cost model of data-parallel training: step time against the number of processes.

    python benchmarks/scaling_cost.py [--procs 1,2] [--model mlp_gan] [--batch-size 128] [--epochs 4]

Each world size trains the same run under `torchrun --standalone` on the CPU (gloo), one torch
thread per process, and reads the epoch times from metrics.csv (the median of the epochs after
the first). It prints a markdown table: processes, step time, images per second, and the bytes
every step all-reduces (both networks' gradients, float32), which do not depend on the load.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from ganlib.models import build_models  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402


def one(procs: int, args: argparse.Namespace, root: Path) -> dict[str, float]:
    runs = root / f"n{procs}"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
           "-m", "ganlib", "train", "--device", "cpu", "--model", args.model, "--max-images", str(args.max_images),
           "--batch-size", str(args.batch_size), "--epochs", str(args.epochs), "--eval-every", "0",
           "--cpu-threads", "1", "--no-progress", "--runs-dir", str(runs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    run = next(runs.iterdir())
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    steps = args.max_images // args.batch_size
    t = statistics.median(float(r["epoch_time_s"]) for r in rows[1:])
    return {"procs": procs, "step_ms": 1000 * t / steps, "img_s": steps * args.batch_size / t}


def grad_bytes(model: str) -> int:
    G, D = build_models(TrainConfig(model=model, device="cpu"), 10)
    return 4 * sum(p.numel() for m in (G, D) for p in m.parameters())


def main(argv=None) -> list[dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--procs", default="1,2")
    p.add_argument("--model", default="mlp_gan")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--max-images", type=int, default=2048)
    p.add_argument("--epochs", type=int, default=4)
    args = p.parse_args(argv)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [one(int(n), args, Path(tmp)) for n in args.procs.split(",")]
    mb = grad_bytes(args.model) / 1e6
    print(f"model {args.model}, global batch {args.batch_size}, {os.cpu_count()} CPU cores, load average {load} "
          f"at the start; all-reduced per step: {mb:.1f} MB (G and D gradients)")
    print("| processes | step (ms) | images/s | speed-up |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['procs']} | {r['step_ms']:.1f} | {r['img_s']:,.0f} | {rows[0]['step_ms'] / r['step_ms']:.2f} |")
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()

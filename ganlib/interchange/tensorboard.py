"""TensorBoard event files of a run, written with tensorboard's own writer
(`torch.utils.tensorboard.SummaryWriter`), so any TensorBoard reads them.

    write_tensorboard(run)                 # <run>/tb/events.out.tfevents.*.ganlib from metrics.csv
    write_tensorboard_all(root)            # every run under root that has a metrics.csv
    log = TensorBoardLogger(run.path)      # live, while training: one call per finished epoch
    log.log_row(row); ...; log.close()

then `tensorboard --logdir checkpoints`. Every numeric metrics column except the epoch is one
scalar tag (`d_loss`, `g_loss`, `fid`, ...), one step per epoch (step = epoch).
"""
from __future__ import annotations

import math
import numbers
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from ganlib.store.access import LOCAL, Actor, may_manage, require
from ganlib.store.run_folder import Run, find_run, list_runs

SUFFIX = ".ganlib"  # event files end in this, after SummaryWriter's time, host and pid
EVENT_GLOB = "events.out.tfevents.*"


def _writer(log_dir: str):
    # tensorboard's writer takes 0.2-0.5 s to import: only when logs are written, not on
    # every page, command and training start that merely could write them
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=log_dir, filename_suffix=SUFFIX)


def scalars(row: dict[str, Any]) -> dict[str, float]:
    """The finite numeric values of a metrics row, the epoch left out (it is the step)."""
    return {k: float(v) for k, v in row.items()
            if k != "epoch" and isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)}


def _step(row: dict[str, Any]) -> Optional[int]:
    epoch = row.get("epoch")
    if isinstance(epoch, numbers.Real) and not isinstance(epoch, bool) and math.isfinite(epoch):
        return int(epoch)
    return None


def _run_start_time(run: Run) -> float:
    try:
        return run.config_file.stat().st_mtime
    except OSError:
        return time.time()


def write_tensorboard(run: str | Path | Run, actor: Actor = LOCAL) -> Path:
    """`<run>/tb/events.out.tfevents.*.ganlib` from metrics.csv, wall times from the run's start
    plus each row's `elapsed_s`. The file is written aside and moved in whole; then every other
    event file in tb/ (earlier exports, the live log) is removed, since metrics.csv holds all
    they held: `tensorboard --logdir checkpoints` shows each run once. It writes into the run:
    only for a run `actor` manages."""
    run = run if isinstance(run, Run) else find_run(run)
    require(actor, run, "write")
    start = _run_start_time(run)
    folder = run.tensorboard_dir
    folder.mkdir(parents=True, exist_ok=True)
    old = list(folder.glob(EVENT_GLOB))
    with tempfile.TemporaryDirectory(dir=folder, prefix=".writing-") as tmp:
        writer = _writer(tmp)
        try:
            for row in run.metrics():
                step = _step(row)
                if step is None:
                    continue
                elapsed = row.get("elapsed_s")
                wall = start + elapsed if isinstance(elapsed, float) and math.isfinite(elapsed) else start
                for tag, value in scalars(row).items():
                    writer.add_scalar(tag, value, step, walltime=wall)
        finally:
            writer.close()
        (written,) = Path(tmp).glob(EVENT_GLOB)
        path = folder / written.name
        os.replace(written, path)
    for p in old:
        if p != path:
            p.unlink(missing_ok=True)
    return path


def write_tensorboard_all(root: str | Path | None = None, actor: Actor = LOCAL) -> list[Path]:
    """Every run's event files that `actor` manages (all of them for a teacher)."""
    return [write_tensorboard(r, actor) for r in list_runs(root)
            if r.metrics_file.is_file() and may_manage(actor, r.owner())]


class TensorBoardLogger:
    """One run's metrics rows as they come, flushed after each, so TensorBoard follows a run
    while it trains. Rows without an epoch, and non-numeric or non-finite values, are skipped."""

    def __init__(self, run_path: str | Path):
        self.folder = Run(Path(run_path)).tensorboard_dir
        self._writer = _writer(str(self.folder))

    def log_row(self, row: dict[str, Any]) -> None:
        step = _step(row)
        if step is None:
            return
        for tag, value in scalars(row).items():
            self._writer.add_scalar(tag, value, step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "TensorBoardLogger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

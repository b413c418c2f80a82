"""How a front end watches and steers a training run: progress, callbacks and the result.

The loop only talks to its caller through `Callbacks` (minGPT's trainer style): the dashboard's
job manager, the CLI, the benchmarks and the tests each pass their own, and the loop never
prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ganlib.store.run_folder import Run


@dataclass
class TrainProgress:
    epoch: int  # 1-based epoch being trained
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    elapsed_s: float
    eta_s: Optional[float]

    @property
    def fraction(self) -> float:
        done = (self.epoch - 1) * self.steps_per_epoch + self.step
        return min(1.0, done / max(1, self.epochs * self.steps_per_epoch))


@dataclass
class Callbacks:
    """How a front end watches and steers a run. `should_stop` is polled every step; it may
    block (the job manager pauses a run that way) and returns True to stop."""

    on_start: Callable[[Run], None] = lambda run: None
    on_progress: Callable[[TrainProgress], None] = lambda p: None
    on_epoch: Callable[[dict[str, float]], None] = lambda row: None
    on_stream: Callable[[dict[str, Any]], None] = lambda row: None  # running means, about twice a second
    should_stop: Callable[[], bool] = lambda: False
    pending_edits: Callable[[], dict[str, Any]] = lambda: {}  # live edits, applied at the next epoch boundary
    on_data: Callable[[float, str], None] = lambda fraction, text: None  # the data loading (a folder's packing)


@dataclass
class TrainResult:
    run: Run
    state: str  # completed | stopped | diverged | failed
    epoch: int  # last good epoch
    rows: list[dict[str, float]] = field(default_factory=list)
    error: Optional[str] = None



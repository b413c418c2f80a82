"""Running means while an epoch trains, and the check that the numbers have not blown up.

A new user should see the curves move within seconds, not when the first epoch ends. So
`StatStream` reads the update rule's device-side running sums (`UpdateRule.read_sums`: one host
sync for all statistics) at most once per `interval_s` of wall time, never per step, turns the
difference since the last read into interval means, and appends them as one row to the run's
`stream.csv` (and to the job's snapshot through `Callbacks.on_stream`). The per-epoch rows of
`metrics.csv` stay as they are.

`check_numbers` is the divergence test of both the stream and the epoch means: not only NaN or
infinity, but losses or gradient norms past limits no healthy run of this workbench reaches
(WGAN critics, hinge and BCE losses stay within hundreds; gradient norms within thousands).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

from ganlib.core.errors import Diverged
from ganlib.engine.update_rules import UpdateRule
from ganlib.store.run_folder import Run

STREAM_INTERVAL_S = 0.5  # wall time between two stream rows (and at most one host sync each)
LOSS_LIMIT = 1e4  # |loss| above this is divergence, not learning
GRAD_LIMIT = 1e6  # a gradient norm above this is too


def limit_of(name: str) -> Optional[float]:
    """The largest healthy magnitude of a statistic; None for D's outputs (probabilities or
    critic scores, whose scale the loss does not bound)."""
    if name.startswith("grad_norm"):
        return GRAD_LIMIT
    return None if name in ("d_real", "d_fake") else LOSS_LIMIT


def check_numbers(stats: dict[str, Optional[float]], where: str) -> None:
    """Raise Diverged naming every statistic that is NaN, infinite or past its limit."""
    broken, huge = [], []
    for name, v in stats.items():
        if v is None:
            continue
        limit = limit_of(name)
        if not math.isfinite(v):
            broken.append(name)
        elif limit is not None and abs(v) > limit:
            huge.append(f"{name} reached {v:.3g} (the limit is {limit:g})")
    if broken:
        raise Diverged(f"{where}: {', '.join(broken)} became NaN or infinite")
    if huge:
        raise Diverged(f"{where}: {'; '.join(huge)}")


class StatStream:
    """Interval means of an update rule's statistics, at most every `interval_s` seconds."""

    def __init__(self, run: Run, on_row: Callable[[dict[str, Any]], None], interval_s: Optional[float] = None):
        self.run, self.on_row = run, on_row
        self.interval_s = STREAM_INTERVAL_S if interval_s is None else interval_s
        self.last_t = -math.inf
        self.prev: dict[str, tuple[float, int]] = {}

    def new_epoch(self) -> None:
        """The rule's sums restart at every epoch."""
        self.prev = {}

    def due(self, now: float) -> bool:
        return now - self.last_t >= self.interval_s

    def sample(self, rule: UpdateRule, now: float, *, epoch: float, step: int, elapsed_s: float) -> dict[str, Any]:
        """Read the sums (the one host sync), append the interval means, check them."""
        sums = rule.read_sums()
        row: dict[str, Any] = {"epoch": round(epoch, 4), "step": step, "elapsed_s": round(elapsed_s, 3)}
        for name in rule.stat_names:
            s, n = sums[name]
            s0, n0 = self.prev.get(name, (0.0, 0))
            row[name] = (s - s0) / (n - n0) if n > n0 else None
        self.prev, self.last_t = sums, now
        self.run.append_stream(row)
        self.on_row(row)
        check_numbers({k: row[k] for k in rule.stat_names}, f"epoch {math.floor(epoch) + 1}, step {step}")
        return row

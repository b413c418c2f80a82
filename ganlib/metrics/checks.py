"""The one input check every metric makes: features, logits and histograms must be finite.

A NaN or inf feature does not fail loudly downstream: a NaN distance compares as neither near
nor far, and `torch.where(d > tol, d, 0)` turned it into 0, so one NaN row among 500 real
features moved precision/recall from (0.0, 1.0) to (1.0, 1.0). A metric asked about such input
refuses it instead (as prdc does), naming what was bad.
"""
from __future__ import annotations

import torch

from ganlib.core.errors import BadValue


def require_finite(x: torch.Tensor, what: str = "features") -> torch.Tensor:
    """`x` itself when every entry is finite; else ValueError saying how many rows are not."""
    if x.is_floating_point() or x.is_complex():
        ok = torch.isfinite(x)
        if not bool(ok.all()):
            rows = ok.reshape(ok.shape[0], -1).all(dim=1) if ok.ndim > 1 else ok.reshape(-1)
            bad = int((~rows).sum())
            unit = "rows" if x.ndim > 1 else "entries"
            raise BadValue(f"{what} contain NaN or inf ({bad} of {rows.numel()} {unit}): "
                             "a metric of them would be a plausible wrong number, so none is computed")
    return x

"""The two horizontal reference lines of every FID and KID chart, so that a value can be placed:

- the floor, real vs real at the same N (`fid_floor` / `kid_floor`, computed by
  `ganlib.metrics.reference.real_floor`): what a perfect generator would score;
- the ceiling, the untrained generator: the run's epoch-0 record in evals.jsonl marked
  `"untrained": true`, which the engine writes when live evaluation is on.

Each is a trace, not a Plotly shape, so the legend and the hover name it with its value.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import plotly.graph_objects as go

from ganlib.core.numbers import finite_or_none
from ganlib.metrics.metric_registry import METRICS
from ganlib.store.run_folder import Run

FLOOR, CEILING = "real vs real (floor)", "untrained G (ceiling)"
STYLE = {FLOOR: {"color": "#2ca02c", "dash": "dot", "width": 1.5},
         CEILING: {"color": "#7f7f7f", "dash": "dashdot", "width": 1.5}}


def untrained_record(records: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The untrained generator's evaluation among evals.jsonl records (or metrics rows): the one
    marked `"untrained": true` at epoch 0, or None."""
    for r in records:
        if r.get("untrained") and finite_or_none(r.get("epoch")) in (0, None):
            return r
    return None


def run_untrained(run: Run) -> Optional[dict[str, Any]]:
    """The run's untrained-generator record from evals.jsonl, or None."""
    try:
        return untrained_record(run.evals())
    except (OSError, ValueError):  # a file being rewritten: the next refresh reads it
        return None


def latest(rows: Sequence[dict[str, Any]], col: str) -> Optional[float]:
    """The last finite value of `col` in `rows`, or None."""
    vals = [v for v in (finite_or_none(r.get(col)) for r in rows) if v is not None]
    return vals[-1] if vals else None


def reference_line(fig: go.Figure, which: str, metric: str, value: Optional[float], xs: Sequence[float],
                   label: str = "", color: Optional[str] = None) -> go.Figure:
    """A horizontal line (`FLOOR` or `CEILING`) at the stored `value` of `metric` ("fid",
    "kid"), scaled as the metric's label says (KID ×10³), with a point at each epoch of `xs`
    (and at 0 for the ceiling) so that the unified hover shows it wherever the curve is."""
    if value is None:
        return fig
    m = METRICS.get(metric)
    xs = sorted({float(x) for x in xs if math.isfinite(x)} | ({0.0} if which == CEILING else set()))
    if len(xs) == 1:  # one evaluation: a short segment around it
        xs = [xs[0] - 0.5, xs[0], xs[0] + 0.5]
    name = f"{label + ' ' if label else ''}{which}: {m.tile_text(value)}"
    style = {**STYLE[which], **({"color": color} if color else {})}
    fig.add_trace(go.Scatter(x=xs, y=[value * m.scale] * len(xs), mode="lines", name=name, line=style,
                             meta=which, hovertemplate=f"{name}<extra></extra>"))
    return fig

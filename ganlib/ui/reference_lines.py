"""The two horizontal reference lines of every FID and KID chart, so that a value can be placed,
and the axis that shows a run's progress between them:

- the floor, real vs real at the same N (`fid_floor` / `kid_floor`, computed by
  `ganlib.metrics.reference.real_floor`): what a perfect generator would score. KID is unbiased,
  so its floor is 0 up to noise: a floor below 0 is drawn at 0, its value and std in its name;
- the ceiling, the untrained generator: the run's epoch-0 record in evals.jsonl marked
  `"untrained": true`, which the engine writes when live evaluation is on.

Each is a trace, not a Plotly shape, so the legend and the hover name it with its value.
`fit_axis` sizes the y axis to the run's own values and the floor (log when they span more than
LOG_SPAN times), so a fall from 15.5 to 2.6 is not a flat line under a ceiling of 300: a
ceiling far above them is named by an arrow at the top edge instead of stretching the axis.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import plotly.graph_objects as go

from ganlib.core.numbers import finite_or_none
from ganlib.metrics.health import untrained_record
from ganlib.metrics.metric_registry import METRICS
from ganlib.store.run_folder import Run

FLOOR, CEILING = "real vs real (floor)", "untrained G (ceiling)"
LOG_SPAN = 20.0  # values spanning more than this factor get a log axis
NEAR = 1.5  # a ceiling within this factor of the curve's top is drawn on the axis, else annotated
STYLE = {FLOOR: {"color": "#2ca02c", "dash": "dot", "width": 1.5},
         CEILING: {"color": "#7f7f7f", "dash": "dashdot", "width": 1.5}}


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
                   label: str = "", color: Optional[str] = None, std: Optional[float] = None) -> go.Figure:
    """A horizontal line (`FLOOR` or `CEILING`) at the stored `value` of `metric` ("fid",
    "kid"), scaled as the metric's label says (KID ×10³), with a point at each epoch of `xs`
    (and at 0 for the ceiling) so that the unified hover shows it wherever the curve is. A floor
    below 0 is drawn at 0 (`std`: its noise, named beside it); a ceiling above a fitted axis
    (`fit_axis`) is an arrow at the top edge too."""
    if value is None:
        return fig
    m = METRICS.get(metric)
    xs = sorted({float(x) for x in xs if math.isfinite(x)} | ({0.0} if which == CEILING else set()))
    if len(xs) == 1:  # one evaluation: a short segment around it
        xs = [xs[0] - 0.5, xs[0], xs[0] + 0.5]
    shown = value
    text = m.tile_text(value)
    if which == FLOOR and value < 0:
        shown = 0.0
        noise = f" ± {m.tile_text(std)}" if std is not None else ""
        text = f"0 ({m.tile_text(value)}{noise}: zero up to its noise)"
    name = f"{label + ' ' if label else ''}{which}: {text}"
    style = {**STYLE[which], **({"color": color} if color else {})}
    fig.add_trace(go.Scatter(x=xs, y=[shown * m.scale] * len(xs), mode="lines", name=name, line=style,
                             meta=which, hovertemplate=f"{name}<extra></extra>"))
    top = (fig.layout.meta or {}).get("top") if isinstance(fig.layout.meta, dict) else None
    if which == CEILING and top is not None and shown * m.scale > top:
        fig.add_annotation(x=0, xref="paper", xanchor="left", y=1, yref="paper", yanchor="top", showarrow=False,
                           text=f"↑ {name} (above the chart)", font={"size": 10, "color": style["color"]})
    return fig


def fit_axis(fig: go.Figure, values: Sequence[float], floor: Optional[float] = None,
             ceiling: Optional[float] = None) -> go.Figure:
    """Size the y axis to the curve's `values` and the `floor` (as drawn, scaled): log when all
    are positive and span more than LOG_SPAN times, else linear from the lower of 0 and the
    values; a `ceiling` within NEAR times the top is included, a higher one is left to an arrow
    (`reference_line`, which reads the top from `layout.meta`)."""
    ys = [v for v in values if v is not None and math.isfinite(v)]
    if not ys:
        return fig
    lo_all = ys + ([floor] if floor is not None else [])
    hi = max(ys)
    if ceiling is not None and ceiling <= hi * NEAR:
        hi = max(hi, ceiling)
    lo = min(lo_all)
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if lo > 0 and hi / lo > LOG_SPAN:
        top = hi * 1.3
        fig.update_yaxes(type="log", range=[math.log10(lo / 1.3), math.log10(top)])
    else:
        lo = min(lo, 0.0)
        pad = 0.06 * ((hi - lo) or 1.0)
        top = hi + pad
        fig.update_yaxes(range=[lo - (pad if lo < 0 else 0), top])
    fig.update_layout(meta={**meta, "top": top})
    return fig

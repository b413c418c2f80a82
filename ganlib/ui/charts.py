"""Plotly figures of a run's per-epoch metrics, plus image helpers for grids saved on disk.

    rows = history(jm.current())                   # all epochs of the job's run so far
    st.plotly_chart(loss_figure(rows)); st.plotly_chart(disc_figure(rows))
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

import plotly.graph_objects as go
from PIL import Image

from ganlib.runs import Run

COLORS = {"d_loss": "#d62728", "g_loss": "#1f77b4", "d_real": "#2ca02c", "d_fake": "#ff7f0e"}


def history(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's rows with, for a resumed run, the earlier epochs read from its metrics.csv."""
    rows = [dict(r) for r in snapshot.get("rows") or []]
    if snapshot.get("run"):
        first = rows[0].get("epoch", math.inf) if rows else math.inf
        older = [r for r in Run(Path(snapshot["run"])).metrics() if _num(r.get("epoch")) < first]
        rows = older + rows
    return rows


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def line_figure(rows: Sequence[dict[str, Any]], series: dict[str, str], title: str, y_title: str,
                y_range: Optional[tuple[float, float]] = None, hline: Optional[float] = None) -> go.Figure:
    x = [_num(r.get("epoch")) for r in rows]
    fig = go.Figure()
    for col, name in series.items():
        fig.add_trace(go.Scatter(x=x, y=[_num(r.get(col)) for r in rows], name=name,
                                 mode="lines+markers" if len(rows) < 60 else "lines",
                                 line={"color": COLORS.get(col)}))
    if hline is not None:
        fig.add_hline(y=hline, line_dash="dot", line_color="gray")
    fig.update_layout(title={"text": title, "x": 0}, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="epoch", yaxis_title=y_title, hovermode="x unified",
                      legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"})
    if y_range:
        fig.update_yaxes(range=list(y_range))
    return fig


def loss_figure(rows: Sequence[dict[str, Any]]) -> go.Figure:
    return line_figure(rows, {"d_loss": "D loss", "g_loss": "G loss"}, "Losses", "mean loss per epoch")


def disc_figure(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """D(x) and D(G(z)): both drift to 0.5 when D can no longer tell real from fake."""
    return line_figure(rows, {"d_real": "D(x)", "d_fake": "D(G(z))"}, "Discriminator outputs",
                       "mean probability", y_range=(0, 1), hline=0.5)


def load_grid(path: str | Path, scale: int = 2) -> Image.Image:
    """A saved sample grid enlarged without blurring (the browser would smear 28 px digits)."""
    with Image.open(path) as im:
        if scale > 1:
            return im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
        return im.copy()

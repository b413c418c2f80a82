"""Plotly figure for the Latent explorer page: the measured truncation curve.

    fig = truncation_figure(curve, current=0.7)   # curve: ganlib.explore.latent.TruncationCurve
"""
from __future__ import annotations

import math
from typing import Optional

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganlib.explore.latent import TruncationCurve

AXIS_TITLE = {"scale": "ψ (1 = no truncation)", "resample": "threshold on |zᵢ| (larger = less truncation)"}


def truncation_figure(curve: TruncationCurve, current: Optional[float] = None) -> go.Figure:
    """FID (left axis) and precision / recall (right axis, 0-1) against the truncation value,
    with a dotted line at the value in use."""
    x = curve.values
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=curve.column("fid"), name="FID (lower is better)", mode="lines+markers",
                             line={"color": "#d62728"},
                             error_y={"type": "data", "array": curve.column("fid_std"), "visible": True}),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=curve.column("precision"), name="precision", mode="lines+markers",
                             line={"color": "#1f77b4"}), secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=curve.column("recall"), name="recall", mode="lines+markers",
                             line={"color": "#2ca02c"}), secondary_y=True)
    if current is not None and math.isfinite(current):
        fig.add_vline(x=current, line_dash="dot", line_color="gray")
    fig.update_layout(title={"text": f"Truncation vs quality ({curve.extractor}, N = {curve.n:,}, "
                                     f"epoch {curve.epoch})", "x": 0},
                      height=400, margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.2, "x": 0, "xanchor": "left", "yanchor": "top"})
    fig.update_xaxes(title_text=AXIS_TITLE.get(curve.method, "truncation"))
    fig.update_yaxes(title_text="FID", secondary_y=False)
    fig.update_yaxes(title_text="precision / recall", range=[0, 1.02], tickmode="linear", tick0=0, dtick=0.2,
                     showgrid=False, secondary_y=True)
    return fig

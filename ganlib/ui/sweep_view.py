"""The Sweeps page's and the seed groups' charts, and the form that turns the Train form's
fields into a sweep spec.

    fig = band_figure({"lr_g=0.0002": (x, q1, med, q3), ...}, "seconds", "FID")
    fig = parallel_figure(trial_rows, ["lr_g", "loss"])
    spec_values = vary_widgets(base_config, prefix="swp")   # fields to vary and their values
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import plotly.graph_objects as go
import streamlit as st
import yaml

from ganlib.store.config import field_specs
from ganlib.store.sweep_spec import NOT_VARIED
from ganlib.ui.compare_view import PALETTE
from ganlib.ui.config_form import field_label

Band = tuple[list[float], list[float], list[float], list[float]]  # x, q1, median, q3


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def band_figure(bands: dict[str, Band], x_title: str, y_title: str, height: int = 360) -> go.Figure:
    """One median line per group with its interquartile range as a shaded band."""
    fig = go.Figure()
    for i, (name, (x, q1, med, q3)) in enumerate(bands.items()):
        color = PALETTE[i % len(PALETTE)]
        if not x:
            continue
        fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(q3) + list(q1)[::-1], fill="toself",
                                 fillcolor=_rgba(color, 0.18), line={"width": 0}, hoverinfo="skip",
                                 legendgroup=name, showlegend=False, name=f"{name} IQR"))
        fig.add_trace(go.Scatter(x=x, y=med, name=name, legendgroup=name, line={"color": color},
                                 mode="lines+markers" if len(x) < 40 else "lines"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title=x_title,
                      yaxis_title=y_title, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    return fig


def parallel_figure(rows: Sequence[dict[str, Any]], varied: Sequence[str]) -> go.Figure:
    """One line per trial across the varied fields, the seed and the final FID, coloured by FID."""
    rows = [r for r in rows if r.get("final_fid") is not None]
    dims = []
    for name in [*varied, "seed", "final_fid"]:
        values = [r.get(name) for r in rows]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            log = name.startswith("lr") and all(v > 0 for v in values)
            dims.append({"label": field_label(name) + (" (log10)" if log else ""),
                         "values": [math.log10(v) if log else v for v in values]})
        else:  # a choice field: one tick per value
            cats = sorted({str(v) for v in values})
            dims.append({"label": field_label(name), "values": [cats.index(str(v)) for v in values],
                         "tickvals": list(range(len(cats))), "ticktext": cats})
    fids = [r["final_fid"] for r in rows]
    fig = go.Figure(go.Parcoords(dimensions=dims, line={"color": fids, "colorscale": "Viridis_r", "showscale": True,
                                                        "colorbar": {"title": "FID"}}))
    fig.update_layout(height=340, margin={"l": 60, "r": 40, "t": 50, "b": 20})
    return fig


def parse_values(text: str) -> list[Any]:
    """`1e-4, 2e-4` -> [0.0001, 0.0002]; each item read as a YAML scalar (numbers, true/false,
    names), so the config's own checks see typed values."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        if item:
            try:
                out.append(yaml.safe_load(item))
            except yaml.YAMLError:
                out.append(item)
    return out


def varied_candidates() -> list[str]:
    return [f.name for f in field_specs() if f.name not in NOT_VARIED and f.metadata.get("role") != "speed"]


def vary_widgets(base: dict[str, Any], prefix: str = "swp") -> dict[str, list[Any]]:
    """Pick the fields to vary and type each one's values; {field: values}."""
    names = st.multiselect("Fields to vary", varied_candidates(), default=["lr_g"], key=f"{prefix}_vary",
                           format_func=field_label,
                           help="Every combination of their values is one setting; each setting trains once per seed.")
    grid: dict[str, list[Any]] = {}
    for name in names:
        v = base.get(name)
        start = f"{v:g}, {v * 2:g}" if isinstance(v, float) else str(v)
        grid[name] = parse_values(st.text_input(f"{field_label(name)}: values, comma-separated", value=start,
                                                key=f"{prefix}_vals_{name}"))
    return grid

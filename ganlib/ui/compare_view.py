"""Compare runs on the dashboard: the overlay figure, and the hand-over of a cloned config to
the Train page.

    fig = overlay_figure(compare.curves(runs, ["g_loss", "fid"]), [r.name for r in runs])
    clone_to_train(compare.clone_config(run))       # Compare runs: "Clone into Train"

`clone_to_train` puts the config dict in `st.session_state["train_prefill"]` and switches to
the Train page, whose `config_form.train_defaults()` fills the form from it.
"""
from __future__ import annotations

from typing import Any, Sequence

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots
from streamlit.errors import StreamlitAPIException

from ganlib.explore.run_comparison import label
from ganlib.ui import navigation
from ganlib.ui.config_form import TRAIN_PREFILL

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]


def run_colors(names: Sequence[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def overlay_figure(data: dict[str, dict[str, tuple[list[float], list[float]]]], run_names: Sequence[str]) -> go.Figure:
    """One panel per metric, stacked on a shared epoch axis; one colour per run in every panel."""
    cols = list(data)
    colors = run_colors(run_names)
    fig = make_subplots(rows=max(1, len(cols)), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[label(c) for c in cols])
    shown: set[str] = set()
    for i, c in enumerate(cols, start=1):
        for name in run_names:
            if name not in data[c]:
                continue
            x, y = data[c][name]
            fig.add_trace(go.Scatter(x=x, y=y, name=name, legendgroup=name, showlegend=name not in shown,
                                     mode="lines+markers" if len(x) < 60 else "lines",
                                     line={"color": colors[name]}), row=i, col=1)
            shown.add(name)
        fig.update_yaxes(title_text=label(c), row=i, col=1)
    fig.update_xaxes(title_text="epoch", row=max(1, len(cols)), col=1)
    fig.update_layout(height=120 + 230 * max(1, len(cols)), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      hovermode="x unified",
                      legend={"orientation": "h", "y": 1.0, "x": 1, "xanchor": "right", "yanchor": "bottom"})
    return fig


def clone_to_train(cfg: dict[str, Any]) -> None:
    """Hand `cfg` to the Train page and open it."""
    st.session_state[TRAIN_PREFILL] = dict(cfg)
    try:
        st.switch_page(navigation.BY_TITLE["Train"].path)
    except StreamlitAPIException:  # a page run on its own (AppTest) knows no siblings
        st.info("The config is ready: open **Train** to start from it.", icon=":material/content_copy:")

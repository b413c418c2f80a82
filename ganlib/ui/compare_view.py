"""Compare runs on the dashboard: the overlay figure, and the hand-over of a cloned config to
the Train page.

    fig = overlay_figure(compare.curves(runs, ["g_loss", "fid"]), [r.name for r in runs])
    clone_to_train(compare.clone_config(run))       # Compare runs: "Clone into Train"

    # Train page, before drawing the form:
    values = config_form(defaults=train_defaults(), prefix="cfg")

`clone_to_train` puts the config dict in `st.session_state["train_prefill"]` and switches to
the Train page. `train_defaults` consumes that key once: it forgets the form's `cfg_<field>` widget
values (so each widget starts from its default again), sets the Train mode to "New run", and
returns the dict, kept as the form's defaults for the rest of the session.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots
from streamlit.errors import StreamlitAPIException

from ganlib.explore.run_comparison import label

TRAIN_PREFILL = "train_prefill"  # set by a clone, consumed by the Train page
TRAIN_DEFAULTS = "_train_form_defaults"  # the consumed prefill, kept as the form's defaults
TRAIN_PAGE = "pages/1_Train.py"
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
        st.switch_page(TRAIN_PAGE)
    except StreamlitAPIException:  # a page run on its own (AppTest) knows no siblings
        st.info("The config is ready: open **Train** to start from it.", icon=":material/content_copy:")


def apply_prefill(cfg: dict[str, Any], prefix: str = "cfg") -> None:
    """Forget the Train form's widget values (call before the form is drawn), so that every
    widget starts again from its default: `cfg`, passed to `config_form` as the defaults."""
    for name in cfg:
        for key in (f"{prefix}_{name}", f"{prefix}_{name}_default"):
            if key in st.session_state:
                del st.session_state[key]
    st.session_state["train_mode"] = "New run"


def train_defaults(prefix: str = "cfg") -> Optional[dict[str, Any]]:
    """For the Train page: consume a pending clone (setting the form's widgets) and return the
    defaults to pass to `config_form` (the last clone's config, or None)."""
    cfg = st.session_state.pop(TRAIN_PREFILL, None)
    if cfg:
        apply_prefill(cfg, prefix)
        st.session_state[TRAIN_DEFAULTS] = dict(cfg)
        st.toast(f"Form filled from a cloned {cfg.get('model', '')} run: change what you like and start.",
                 icon=":material/content_copy:")
    return st.session_state.get(TRAIN_DEFAULTS)

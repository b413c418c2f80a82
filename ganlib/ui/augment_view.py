"""The Augment page's pieces: the accuracy and GAN-test figures, and the table (the one
experiment runner per process is `ui.resources.augment_runner`).

    st.plotly_chart(accuracy_figure(table))     # accuracy vs real images per class, three arms
    st.plotly_chart(gan_test_figure(table))
"""
from __future__ import annotations

from typing import Any, Sequence

import plotly.graph_objects as go

from ganlib.explore.augment_report import ARM_LABELS

COLORS = {"real": "#1f77b4", "real+gen": "#2ca02c", "gen": "#d62728", "gan-test": "#9467bd"}


def _rows(table: Sequence[dict[str, Any]], arm: str) -> list[dict[str, Any]]:
    return sorted((r for r in table if r["arm"] == arm), key=lambda r: r["real_per_class"])


def _band(fig: go.Figure, xs: list[float], lo: list[float], hi: list[float], color: str) -> None:
    """The min-max range over seeds, shaded."""
    fig.add_trace(go.Scatter(x=xs + xs[::-1], y=hi + lo[::-1], fill="toself", fillcolor=color, opacity=0.15,
                             line={"width": 0}, hoverinfo="skip", showlegend=False))


def _curve(fig: go.Figure, rows: list[dict[str, Any]], arm: str, xs: list[float] | None = None,
           dash: str | None = None) -> None:
    xs = xs or [r["real_per_class"] for r in rows]
    ys, std = [r["accuracy"] for r in rows], [r["std"] for r in rows]
    _band(fig, xs, [r["min"] for r in rows], [r["max"] for r in rows], COLORS[arm])
    fig.add_trace(go.Scatter(
        x=xs, y=ys, name=ARM_LABELS[arm], mode="lines+markers", line={"color": COLORS[arm], "dash": dash},
        error_y={"type": "data", "array": std, "visible": True, "thickness": 1.2},
        customdata=[[r["std"], r["min"], r["max"], r["seeds"]] for r in rows],
        hovertemplate="%{y:.1%} ± %{customdata[0]:.1%} (min %{customdata[1]:.1%}, max %{customdata[2]:.1%}, "
                      "%{customdata[3]} seeds)<extra>" + ARM_LABELS[arm] + "</extra>"))


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_xaxes(type="log", title_text="real images per class (log scale)")
    fig.update_yaxes(title_text=y_title, tickformat=".0%")
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, height=420,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.2, "x": 0})
    return fig


def accuracy_figure(table: Sequence[dict[str, Any]], generated_per_class: int) -> go.Figure:
    """Held-out accuracy against real images per class: real only, real + generated, and the
    generated-only classifier (CAS, which uses no real image) as a dashed level; bars are the
    std over seeds, shading the min-max range."""
    fig = go.Figure()
    real = _rows(table, "real")
    xs = [r["real_per_class"] for r in real]
    _curve(fig, real, "real")
    _curve(fig, _rows(table, "real+gen"), "real+gen")
    cas = _rows(table, "gen")
    if cas and xs:
        _curve(fig, [cas[0]] * len(xs), "gen", xs=xs, dash="dash")
    return _layout(fig, f"Accuracy on held-out real images (+ {generated_per_class} generated per class)",
                   "accuracy on held-out real images")


def gan_test_figure(table: Sequence[dict[str, Any]]) -> go.Figure:
    """GAN-test: the real-only classifiers' accuracy on the generated images, beside their
    accuracy on held-out real ones."""
    fig = go.Figure()
    _curve(fig, _rows(table, "gan-test"), "gan-test")
    _curve(fig, _rows(table, "real"), "real", dash="dot")
    return _layout(fig, "GAN-test: classifiers trained on real images, tested on generated ones", "accuracy")


def table_frame(table: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table as the page shows it: percentages, no internal arm names."""
    return [{"trained on (per class)": r["trained_on"].removesuffix(" per class"), "tested on": r["tested_on"],
             "accuracy": 100 * r["accuracy"], "± std": 100 * r["std"], "min": 100 * r["min"],
             "max": 100 * r["max"], "seeds": r["seeds"]} for r in table]

"""Plotly figures of a 2-D playground snapshot (`ganlib.explore.playground.Playground.snapshot()`),
and `live_chart`, which draws a figure that is redrawn several times a second.

    snap = runner.snapshot()
    live_chart(field_figure(snap), key="field"); live_chart(loss_trace_figure(snap), key="losses")

Colours follow GAN Lab: real data green, generated points purple, and D's opinion of the
plane shaded from purple ("fake") to green ("real"). The arrows show where G's loss pushes
each generated point; their lengths are relative to the longest arrow of the frame.

Why not st.plotly_chart for the live view: its element id hashes the figure, so every new
frame mounts a new chart and plotly.js builds it from scratch (the chart blanks, and at
2-3 frames a second the browser spends most of its time rebuilding plots). `live_chart` is
a tiny component, keyed so its iframe persists, that hands each frame to `Plotly.react`,
which updates the plot in place. Its files (an index.html and plotly.py's own copy of
plotly.min.js) are written once per process to a temporary folder; nothing is fetched.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import numpy as np
import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components

REAL, FAKE, ARROW = "#1a9850", "#7b3294", "#222222"
MISSED, COVERED = "#d7301f", "#1a9850"
# D's output: low (judged fake) purple, high (judged real) green.
D_SCALE = [[0.0, "#b08fc7"], [0.5, "#f7f7f7"], [1.0, "#7fc97f"]]
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def arrow_segments(start: np.ndarray, vec: np.ndarray, max_len: float) -> tuple[list, list, list, float]:
    """x, y (segments separated by None) and marker sizes (a head at each tip) for a quiver whose
    longest arrow is `max_len`; also the longest gradient norm."""
    norms = np.linalg.norm(vec, axis=1) if len(vec) else np.zeros(0)
    top = float(norms.max()) if len(norms) else 0.0
    scale = max_len / top if top > 0 else 0.0
    xs: list = []
    ys: list = []
    sizes: list = []
    for (x0, y0), (dx, dy), n in zip(start, vec, norms):
        x1, y1 = x0 + dx * scale, y0 + dy * scale
        xs += [float(x0), float(x1), None]
        ys += [float(y0), float(y1), None]
        sizes += [0, 9 if n * scale > max_len * 0.05 else 0, 0]  # no head on a dot-sized arrow
    return xs, ys, sizes, top


def field_figure(snap: dict[str, Any], show_heatmap: bool = True, show_arrows: bool = True,
                 height: int = 620) -> go.Figure:
    """Real points, generated points, D's heatmap and G's gradient arrows in one square plot."""
    lo, hi = snap["extent"]
    fig = go.Figure()
    if show_heatmap:
        z = snap["d_grid"]
        if snap["d_is_prob"]:
            colorbar, zrange = "D(x): P(real)", {"zmin": 0.0, "zmax": 1.0}
        else:
            colorbar, zrange = "D(x): score", {}
        fig.add_trace(go.Heatmap(x=snap["grid_x"], y=snap["grid_y"], z=z, colorscale=D_SCALE, opacity=0.85,
                                 zsmooth="fast", name="D",
                                 hovertemplate="D(%{x:.2f}, %{y:.2f}) = %{z:.3f}<extra></extra>",
                                 colorbar={"title": {"text": colorbar, "side": "right"}, "thickness": 12, "len": 0.6},
                                 **zrange))
    real, fake = snap["real"], snap["fake"]
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real data",
                               marker={"color": REAL, "size": 4, "opacity": 0.7}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated G(z)",
                               marker={"color": FAKE, "size": 4, "opacity": 0.8}, hoverinfo="skip"))
    if show_arrows and len(snap["arrows"]):
        xs, ys, sizes, top = arrow_segments(snap["arrow_from"], snap["arrows"], 0.09 * (hi - lo))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name="G's gradient (−∂L_G/∂x)",
                                 line={"color": ARROW, "width": 1.5}, hoverinfo="skip",
                                 marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": ARROW}))
    shapes = []
    if snap.get("centres") is not None:
        r = snap["radius"]
        covered = snap.get("mode_covered")
        for i, (cx, cy) in enumerate(snap["centres"]):
            ok = bool(covered[i]) if covered is not None else True
            shapes.append({"type": "circle", "x0": cx - r, "x1": cx + r, "y0": cy - r, "y1": cy + r,
                           "line": {"color": COVERED if ok else MISSED, "width": 1.5, "dash": "dot"}})
    fig.update_layout(height=height, margin=MARGIN, shapes=shapes, uirevision="playground",
                      title={"text": f"step {snap['step']}", "x": 0},
                      legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
                      template="plotly_white")
    fig.update_xaxes(range=[lo, hi], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[lo, hi], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1,
                     constrain="domain")
    return fig


def _trace_layout(fig: go.Figure, title: str, y_title: str, height: int) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0}, height=height, margin=MARGIN,
                      template="plotly_white", yaxis_title=y_title, hovermode="x unified",
                      uirevision="playground-trace",
                      legend={"orientation": "h", "y": -0.22, "x": 0, "xanchor": "left", "yanchor": "top"})
    fig.update_xaxes(title={"text": "step", "standoff": 2})
    return fig


def loss_trace_figure(snap: dict[str, Any], height: int = 300) -> go.Figure:
    """D's and G's losses over the steps (means between trace rows)."""
    t = snap["trace"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t["step"], y=t["d_loss"], name="D loss", mode="lines", line={"color": "#d62728"}))
    fig.add_trace(go.Scatter(x=t["step"], y=t["g_loss"], name="G loss", mode="lines", line={"color": "#1f77b4"}))
    return _trace_layout(fig, "Losses", "loss", height)


def coverage_trace_figure(snap: dict[str, Any], height: int = 300) -> go.Figure:
    """Modes covered (left axis) and the share of generated points near the data (right axis)."""
    t = snap["trace"]
    fig = go.Figure()
    has_modes = snap.get("n_modes", 0) > 0
    if has_modes:
        fig.add_trace(go.Scatter(x=t["step"], y=t["modes"], name="modes covered", mode="lines",
                                 line={"color": COVERED, "shape": "hv"}))
    fig.add_trace(go.Scatter(x=t["step"], y=100 * np.asarray(t["quality"]), mode="lines",
                             name="% points near a mode" if has_modes else "% points near the data",
                             line={"color": FAKE, "dash": "dot" if has_modes else "solid"},
                             yaxis="y2" if has_modes else "y"))
    if has_modes:
        n = snap["n_modes"]
        fig.update_layout(yaxis={"range": [0, n + 0.5], "title": {"text": f"modes covered (of {n})"}},
                          yaxis2={"range": [0, 101], "overlaying": "y", "side": "right", "showgrid": False,
                                  "tickmode": "linear", "tick0": 0, "dtick": 25,
                                  "title": {"text": "% near a mode"}})
        _trace_layout(fig, "Mode coverage", f"modes covered (of {n})", height)
    else:
        _trace_layout(fig, "Quality", "% near the data", height)
        fig.update_yaxes(range=[0, 101])
    return fig


def max_arrow(snap: dict[str, Any]) -> float:
    """The longest gradient of the frame, |-dL_G/dx| (the arrows are drawn relative to it)."""
    a = np.asarray(snap["arrows"])
    return float(np.linalg.norm(a, axis=1).max()) if len(a) else 0.0


def fmt_grad(v: float) -> str:
    return "0" if v == 0 or not math.isfinite(v) else f"{v:.2g}"


# ---- the live chart component --------------------------------------------------------------
_INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8">
<style>html, body { margin: 0; padding: 0; overflow: hidden; background: transparent; } #plot { width: 100%; }</style>
<script src="plotly.min.js"></script>
</head><body><div id="plot"></div>
<script>
// The Streamlit component protocol by hand: say ready, draw each render message with Plotly.react.
const send = (type, data) =>
  window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
let lastSpec = null, lastHeight = -1;
window.addEventListener("message", (event) => {
  const msg = event.data;
  if (!msg || msg.type !== "streamlit:render") return;
  const args = msg.args || {};
  if (args.spec === lastSpec) return;
  lastSpec = args.spec;
  const fig = JSON.parse(args.spec);
  const height = (fig.layout && fig.layout.height) || 450;
  document.getElementById("plot").style.height = height + "px";
  Plotly.react("plot", fig.data, fig.layout, Object.assign({responsive: true}, args.config || {}));
  if (height !== lastHeight) { lastHeight = height; send("streamlit:setFrameHeight", {height: height}); }
});
send("streamlit:componentReady", {apiVersion: 1});
</script></body></html>
"""


def _component_dir() -> Optional[Path]:
    """The component's folder (index.html and plotly.min.js), made once per plotly version;
    None when plotly.py ships no plotly.min.js."""
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not src.is_file():
        return None
    user = os.getuid() if hasattr(os, "getuid") else 0
    root = Path(tempfile.gettempdir()) / f"ganlib-live-plotly-{plotly.__version__}-{user}"
    if not (root / "index.html").is_file() or not (root / "plotly.min.js").is_file():
        root.mkdir(parents=True, exist_ok=True)
        for name, write in (("plotly.min.js", lambda p: shutil.copyfile(src, p)),
                            ("index.html", lambda p: p.write_text(_INDEX_HTML, encoding="utf-8"))):
            tmp = root / f".{name}.{os.getpid()}.tmp"
            write(tmp)
            os.replace(tmp, root / name)  # another process may be writing the same file
    return root


def live_chart(fig: go.Figure, key: str, config: Optional[dict[str, Any]] = None) -> None:
    """Draw `fig` so that redrawing it under the same `key` updates the plot in place."""
    config = {"displayModeBar": False, **(config or {})}
    root = _component_dir()
    if root is None:  # no local plotly.js to serve: the ordinary chart, rebuilt each frame
        st.plotly_chart(fig, key=key, config=config)
        return
    component = components.declare_component("live_plotly", path=str(root))
    component(spec=fig.to_json(), config=config, key=key, default=None)

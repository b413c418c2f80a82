"""Click a point on a run's curve, see that epoch: its sample grid beside the nearest training
image of every sample (`ganlib.explore.epoch_inspect`).

    epoch_view.chart(fig, "loss_chart", run)     # a Plotly chart whose points can be clicked
    epoch_view.panel(run)                        # the picked epoch's grid and neighbours, if any

The picked (run, epoch) is kept in the session, not in the chart's selection: a live chart is
redrawn every second and a redrawn chart forgets what was selected on it.
"""
from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Optional

import streamlit as st

from ganlib.explore.epoch_inspect import inspect_epoch, nearest_grid_epoch
from ganlib.store.run_folder import Run

PICKED = "_picked_epoch"  # session key: {"run": name, "epoch": float}


def _picked(chart_key: str, run_name: str) -> None:
    event = st.session_state.get(chart_key) or {}
    points = (event.get("selection") or {}).get("points") or []
    xs = [p.get("x") for p in points if isinstance(p.get("x"), (int, float)) and math.isfinite(p["x"])]
    if xs:
        st.session_state[PICKED] = {"run": run_name, "epoch": float(xs[0])}


def chart(fig, key: str, run: Run, ready: bool = False) -> None:
    """A metric chart whose points open their epoch below the charts when clicked (`ready`: a
    shared figure already made clickable, which must not be changed here)."""
    st.plotly_chart(fig if ready else clickable(fig), key=key, on_select=partial(_picked, key, run.name),
                    selection_mode="points")


def clickable(fig):
    """Give every hoverable line trace (invisible) markers. Plotly selects points only on
    traces that draw markers: one lines-only trace under the cursor (a long run's curve, a
    smoothed FID, a parent's dotted curve) turns a click into an empty selection. Selected and
    unselected points keep the trace's own look (Plotly fades the unselected ones by default)."""
    for t in fig.data:
        mode = getattr(t, "mode", None) or ""
        if t.type == "scatter" and "lines" in mode and "markers" not in mode and t.hoverinfo != "skip":
            t.update(mode=mode + "+markers", marker={"opacity": 0, "size": 8})
        if t.type == "scatter":  # a click opens the epoch below; it must not fade every other point
            opacity = 1 if t.marker.opacity is None else t.marker.opacity
            t.update(selected={"marker": {"opacity": opacity}}, unselected={"marker": {"opacity": opacity}})
    return fig


def picked_epoch(run: Run) -> Optional[float]:
    p = st.session_state.get(PICKED)
    return p["epoch"] if p and p.get("run") == run.name else None


@st.cache_data(max_entries=32, show_spinner=False)
def _inspect(run_path: str, epoch: float, grid_mtime: float):
    return inspect_epoch(Run(Path(run_path)), epoch)


def panel(run: Run, pairs: int = 6) -> None:
    """The picked epoch's grid and, tile for tile, each sample's nearest training image."""
    epoch = picked_epoch(run)
    if epoch is None:
        st.caption("Click a point on a curve to open that epoch's samples and their nearest training images.")
        return
    grid_epoch = nearest_grid_epoch(run, epoch)
    if grid_epoch is None:
        st.caption("This run has no sample grid yet.")
        return
    head, close = st.columns([6, 1])
    shown = f"epoch {grid_epoch}" + ("" if grid_epoch == round(epoch) else
                                     f" (the saved grid nearest the clicked epoch {epoch:g})")
    head.markdown(f"**{run.name}, {shown}**")
    close.button("Close", key="close_picked", icon=":material/close:", on_click=st.session_state.pop,
                 args=(PICKED, None))
    neighbours(run, grid_epoch, pairs)


def neighbours(run: Run, grid_epoch: int, pairs: int = 6) -> None:
    """A saved epoch's grid beside, tile for tile, each sample's nearest training image."""
    try:
        with st.spinner(f"Searching the training set for the nearest images of epoch {grid_epoch}'s samples..."):
            ins = _inspect(str(run.path), float(grid_epoch), run.sample_path(grid_epoch).stat().st_mtime)
    except Exception as e:  # noqa: BLE001 - an unreadable grid or dataset: say so, keep the page
        st.error(f"Cannot inspect epoch {grid_epoch}: {type(e).__name__}: {e}", icon=":material/error:")
        return
    left, right = st.columns(2)
    left.image(ins.grid_png, caption=f"Samples after epoch {ins.epoch} (fixed noise)", output_format="PNG")
    right.image(ins.neighbours_png, caption=f"Nearest training image of each sample, same place "
                f"(pixel L2 over {ins.n_train:,} training images)", output_format="PNG")
    close_ones = ", ".join(f"sample {g + 1} → training image #{t} ({d:.2f})" for g, t, d in ins.closest(pairs))
    st.caption(f"Median distance to the nearest training image: **{ins.median:.2f}** (pixels in [-1, 1]). "
               f"Closest: {close_ones}. A distance near 0 means the generator reproduced a training image.")

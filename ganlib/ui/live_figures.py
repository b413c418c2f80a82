"""The Train page's live charts, built once per change of the run and shared by every session
watching it: many viewers of one run cost one build of its figures per new epoch or stream row,
not one per viewer per poll (issue 24: ten viewers used 46 % of a core re-reading the same files
and rebuilding the same Plotly figures every second).

    figs = live_figures.build(run, rows, stream, version)   # {"loss", "disc", "fid", "kid", "ctx"}

`version` says when the data changed: a job's snapshot version (the job manager bumps it on every
row), or for a run read from disk the sizes and mtimes of its files. The figures come back ready
to draw (clickable, annotated with the run's forks and edits); pages must not change them.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Hashable, Optional, Sequence

import streamlit as st

from ganlib.store.run_folder import Run
from ganlib.ui import charts
from ganlib.ui.chart_lineage import annotate, lineage_context
from ganlib.ui.epoch_view import clickable


def file_version(run: Run) -> tuple:
    """What a disk view's figures depend on: metrics.csv, stream.csv and the edits, by size and mtime."""
    out = []
    for p in (run.metrics_file, run.stream_file, run.path / "edits.jsonl", run.path / "fork.json"):
        try:
            s = p.stat()
            out.append((s.st_size, s.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def build(run: Run, rows: Sequence[dict[str, Any]], stream: Sequence[dict[str, Any]],
          version: Optional[Hashable] = None) -> dict[str, Any]:
    key = (version, file_version(run)[2:]) if version is not None else file_version(run)
    return _build(str(run.path), key, rows, stream)


@st.cache_resource(show_spinner=False, max_entries=64)
def _build(run_path: str, version: Hashable, _rows: Sequence[dict[str, Any]],
           _stream: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows, stream = list(_rows), list(_stream)
    run = Run(Path(run_path))
    ctx = lineage_context(run)
    vae = charts.is_vae(rows) or charts.is_vae(stream)
    loss_cols = {"neg_elbo": "-ELBO"} if vae else {"d_loss": "D loss", "g_loss": "G loss"}
    figs: dict[str, Any] = {"ctx": ctx, "loss": None, "disc": None, "fid": None, "kid": None}
    if rows or stream:
        figs["loss"] = clickable(annotate(charts.loss_figure(rows, stream), ctx, loss_cols))
        figs["disc"] = clickable(annotate(charts.disc_figure(rows, stream, charts.run_loss(run)), ctx, {}))
    fid = charts.fid_figure(rows)
    if fid is not None:
        figs["fid"] = clickable(annotate(fid, ctx, {"fid": "FID"}, rows))
        kid = charts.kid_figure(rows)
        figs["kid"] = clickable(annotate(kid, ctx, {})) if kid is not None else None
    return figs


def grid_png(path: str | Path, scale: int = 2) -> bytes:
    """`charts.load_grid` as PNG bytes, made once per version of the file and shared by every
    session (a live view redraws the grid on every poll; a PIL image was re-encoded each time)."""
    p = Path(path)
    return _grid_png(str(p), p.stat().st_mtime_ns, scale)


@st.cache_data(show_spinner=False, max_entries=64)
def _grid_png(path: str, mtime_ns: int, scale: int) -> bytes:
    buf = io.BytesIO()
    charts.load_grid(path, scale).save(buf, "PNG")
    return buf.getvalue()

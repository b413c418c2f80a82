"""Plotly figures of a run's per-epoch metrics, plus image helpers for grids saved on disk.

    rows = history(jm.current())                   # all epochs of the job's run so far
    st.plotly_chart(loss_figure(rows)); st.plotly_chart(disc_figure(rows))
    fig = fid_figure(rows)                         # None until the first evaluation
    # edits, fork ancestors and the untrained ceiling are drawn on these by ganlib.ui.chart_lineage

Evaluation columns (fid, kid, ...) exist only on evaluated epochs; the figures below skip the
others. Every metric figure names its extractor and N (`eval_tag`), and series with another
extractor or N are drawn apart: their values are not comparable. Every FID and KID figure has
two horizontal reference lines, each named with its value in the legend and the hover: the
floor (real vs real at the same N: the latest row's `fid_floor` / `kid_floor`) and the ceiling
(the untrained generator: the run's epoch-0 record in evals.jsonl marked `"untrained": true`,
drawn by `fid_figure(rows, untrained)` or, from the run's context, by `chart_lineage.annotate`).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from ganlib.core.numbers import finite_or_none, number
from ganlib.losses import LOSSES, RAW_SCORE
from ganlib.metrics.health import untrained_record
from ganlib.metrics.metric_registry import METRICS
from ganlib.models import MODELS
from ganlib.store.run_folder import Run
from ganlib.ui.reference_lines import CEILING, FLOOR, fit_axis, latest, reference_line

COLORS = {"d_loss": "#d62728", "g_loss": "#1f77b4", "d_real": "#2ca02c", "d_fake": "#ff7f0e"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
SMOOTHING = 0.6  # FID smoothing: bias-corrected EMA over evaluations, weight 0.6 (TensorBoard's rule)
# The title on top, the legend at the bottom edge of the figure, under the x axis: a legend above
# the plot grows upward into the title when its entries wrap in a narrow column (issue 22). The
# bottom margin grows with the legend (Plotly's automargin for a legend outside the plot).
LAYOUT = dict(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="x unified",
              legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0,
                      "xanchor": "left"})


def axis_title(metric: str) -> str:
    """A metric's axis as the registry names it: "KID ×10³ (lower is better)"."""
    m = METRICS.get(metric)
    return f"{m.label} ({m.direction} is better)" if m.direction else m.label


def _epoch_axis(fig: go.Figure, xs: Sequence[float]) -> go.Figure:
    """Whole epochs only: with a few points Plotly would add ticks at 1.5, 2.5, ..."""
    xs = [x for x in xs if math.isfinite(x)]
    if xs and max(xs) - min(xs) <= 12:
        fig.update_xaxes(dtick=1)
    return fig


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top"}


def history(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's rows with, for a resumed run, the earlier epochs read from its metrics.csv."""
    rows = [dict(r) for r in snapshot.get("rows") or []]
    if snapshot.get("run"):
        first = rows[0].get("epoch", math.inf) if rows else math.inf
        older = [r for r in Run(Path(snapshot["run"])).metrics() if num(r.get("epoch")) < first]
        rows = older + rows
    return rows


def num(v: Any) -> float:
    """A cell for Plotly: NaN (a gap in the line) where there is no number."""
    f = number(v)
    return math.nan if f is None else f


STREAM_POINTS = 1500  # running-mean points drawn at most (a long run's stream is thinned)


def line_figure(rows: Sequence[dict[str, Any]], series: dict[str, str], title: str, y_title: str,
                y_range: Optional[tuple[float, float]] = None, hlines: Sequence[tuple[float, str]] = (),
                stream: Sequence[dict[str, Any]] = ()) -> go.Figure:
    """Per-epoch means as lines with markers; with `stream`, the running means written during
    each epoch (about twice a second) as a thin line under them, so the curve moves within
    seconds of Start instead of at the first epoch's end."""
    x = [num(r.get("epoch")) for r in rows]
    fig = go.Figure()
    if stream:
        step = max(1, len(stream) // STREAM_POINTS)
        pts = list(stream[::step])
        sx = [num(r.get("epoch")) for r in pts]
        for col, name in series.items():
            ys = [num(r.get(col)) for r in pts]
            if any(math.isfinite(v) for v in ys):
                fig.add_trace(go.Scatter(x=sx, y=ys, name=f"{name} (running)", mode="lines", opacity=0.45,
                                         line={"color": COLORS.get(col), "width": 1}))
        x = x + sx
    for col, name in series.items():
        if rows:
            fig.add_trace(go.Scatter(x=[num(r.get("epoch")) for r in rows], y=[num(r.get(col)) for r in rows],
                                     name=name, mode="lines+markers" if len(rows) < 60 else "lines",
                                     line={"color": COLORS.get(col)}))
    for y, text in hlines:
        fig.add_hline(y=y, line_dash="dot", line_color="gray", annotation_text=text, annotation_position="top left",
                      annotation_font={"size": 10, "color": "gray"})
    fig.update_layout(title=_title(title), xaxis_title="epoch", yaxis_title=y_title, **LAYOUT)
    _epoch_axis(fig, x)
    if y_range:
        fig.update_yaxes(range=list(y_range))
    return fig


def newest_grid(run: Run) -> Optional[tuple[Path, str]]:
    """The newest fixed-noise grid and its caption: the first minute's preview while it is newer
    than the last epoch's grid, else that grid."""
    grids = run.samples()
    preview = run.preview_path
    latest = grids[-1] if grids else None
    try:
        if preview.is_file() and (latest is None or preview.stat().st_mtime > latest[1].stat().st_mtime):
            age = max(0.0, time.time() - preview.stat().st_mtime)
            done = f" (after epoch {latest[0]})" if latest and latest[0] else ""
            return preview, f"{grid_title(run)} {age:.0f} s ago{done}: a preview every 5 s of the first minute"
    except OSError:  # the preview is being replaced: the epoch grid this time
        pass
    return (latest[1], f"{grid_title(run)} after epoch {latest[0]}") if latest else None


def run_loss(run: Run) -> Optional[str]:
    """The run's loss (how D's outputs read), or None when its config cannot be read."""
    try:
        return run.config().loss
    except (OSError, ValueError, KeyError):
        return None


def grid_title(run: Run) -> str:
    """What a run's grid shows: fixed-noise samples, or a translator's held-out examples."""
    try:
        translator = MODELS.get(run.config().model).translation
    except (OSError, ValueError, KeyError):  # an unreadable config: the usual grid
        translator = False
    return "Held-out translations (each row: input | output | target, and back for CycleGAN)" if translator \
        else "Fixed-noise samples"


# The loss terms of the translation rules (unweighted: the weights are in the config)
TRANSLATION_TERMS = {"g_adv": "adversarial", "g_l1": "L1 to target", "g_cycle": "cycle", "g_identity": "identity"}


def is_translation(rows: Sequence[dict[str, Any]]) -> bool:
    return any(r.get("g_adv") is not None for r in rows)


def is_vae(rows: Sequence[dict[str, Any]]) -> bool:
    return any(r.get("neg_elbo") is not None for r in rows)


def loss_figure(rows: Sequence[dict[str, Any]], stream: Sequence[dict[str, Any]] = ()) -> go.Figure:
    if is_vae(rows) or is_vae(stream):
        return line_figure(rows, {"neg_elbo": "-ELBO"}, "VAE loss (negative ELBO)", "per image, nats", stream=stream)
    return line_figure(rows, {"d_loss": "D loss", "g_loss": "G loss"}, "Losses", "mean loss", stream=stream)


def disc_figure(rows: Sequence[dict[str, Any]], stream: Sequence[dict[str, Any]] = (),
                loss: Optional[str] = None) -> go.Figure:
    """D(x) and D(G(z)) on the scale the run's loss gives them (`GANLoss.d_scale`): probabilities
    with the 0.5 line for BCE, raw scores with their own axis and lines (hinge margins) for the
    others, never clipped (an unknown loss: raw, no lines). For a VAE, its two terms:
    reconstruction and KL (their sum is the negative ELBO); for a translator, G's loss terms
    (adversarial, L1, cycle, identity)."""
    if is_vae(rows) or is_vae(stream):
        return line_figure(rows, {"recon": "reconstruction", "kl": "KL"}, "ELBO terms", "per image, nats",
                           stream=stream)
    if is_translation(rows) or is_translation(stream):
        present = {k for r in list(rows) + list(stream) for k in r}
        return line_figure(rows, {k: v for k, v in TRANSLATION_TERMS.items() if k in present},
                           "G's loss terms (unweighted)", "mean loss", stream=stream)
    scale = LOSSES.get(loss).d_scale if loss in LOSSES else RAW_SCORE
    return line_figure(rows, {"d_real": "D(x)", "d_fake": "D(G(z))"}, "Discriminator outputs", scale.axis,
                       y_range=scale.range, hlines=scale.lines, stream=stream)


# ---- evaluation metrics ------------------------------------------------------------------
def evaluated(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of epochs that were evaluated (a finite FID)."""
    return [r for r in rows if finite_or_none(r.get("fid")) is not None]


def eval_key(row: dict[str, Any]) -> tuple[str, int]:
    return str(row.get("extractor") or "?"), int(finite_or_none(row.get("eval_n")) or 0)


def eval_tag(row_or_key: dict[str, Any] | tuple[str, int]) -> str:
    """"digits, N=5,000": what every metric value is computed with."""
    ext, n = row_or_key if isinstance(row_or_key, tuple) else eval_key(row_or_key)
    return f"{ext}, N={n:,}"


def eval_groups(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Evaluated rows by (extractor, N), in order of first appearance."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in evaluated(rows):
        groups.setdefault(eval_key(r), []).append(r)
    return groups


def ema(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """Bias-corrected exponential moving average (as TensorBoard smooths): causal, so a past
    point never moves when a new evaluation arrives, and the first point is the raw value."""
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc = weight * acc + (1 - weight) * v
        out.append(acc / (1 - weight ** (i + 1)))
    return out


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def _fid_traces(fig: go.Figure, rows: list[dict[str, Any]], prefix: str, color: str, smooth: bool = True) -> None:
    """Raw FID (thin), its EMA (dashed, when `smooth`) and the ± 2 bootstrap std band (no
    legend entry of its own: the legend stays one row in a narrow column), one legend group."""
    x = [num(r["epoch"]) for r in rows]
    fid = [num(r["fid"]) for r in rows]
    std = [finite_or_none(r.get("fid_std")) or 0.0 for r in rows]
    name = (lambda s: f"{prefix} {s}" if prefix else s)  # noqa: E731
    group = prefix or "fid"
    if any(std):
        fig.add_trace(go.Scatter(x=x + x[::-1], y=[f + 2 * s for f, s in zip(fid, std)]  # FID is not below 0:
                                 + [max(f - 2 * s, f / 20) for f, s in zip(fid, std)][::-1],  # nor is its band
                                 fill="toself", fillcolor=_rgba(color, 0.18), line={"width": 0}, mode="lines",
                                 name=name("± 2 std"), legendgroup=group, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=fid, name=name("raw") if smooth else prefix, mode="lines+markers",
                             line={"color": color, "width": 1 if smooth else 2}, marker={"size": 5},
                             legendgroup=group, customdata=std, hovertemplate="%{y:.2f} ± %{customdata:.2f}"))
    if smooth and len(rows) > 1:
        fig.add_trace(go.Scatter(x=x, y=ema(fid), name=name(f"EMA {SMOOTHING:g}"), mode="lines", legendgroup=group,
                                 line={"color": color, "width": 3, "dash": "dash"}, hovertemplate="%{y:.2f}"))


def ceiling_value(untrained: Optional[dict[str, Any]], metric: str, key: tuple[str, int]) -> Optional[float]:
    """The untrained record's value, only when its extractor and N are the series' own."""
    if untrained is None or eval_key(untrained) != key:
        return None
    return finite_or_none(untrained.get(metric))


def fid_figure(rows: Sequence[dict[str, Any]], untrained: Optional[dict[str, Any]] = None) -> Optional[go.Figure]:
    """FID over epochs, raw and smoothed (bias-corrected EMA, weight SMOOTHING), with the band
    FID ± 2 bootstrap std (about 95 %), the floor and (with `untrained`, its epoch-0 record) the
    ceiling, on an axis fitted to the run's values (`reference_lines.fit_axis`). One series per
    (extractor, N); None before any evaluation."""
    groups = eval_groups(rows)
    if not groups:
        return None
    untrained = untrained or untrained_record(rows)
    fig = go.Figure()
    _fit(fig, "fid", groups, untrained, [num(r["fid"]) + 2 * (finite_or_none(r.get("fid_std")) or 0.0)
                                         for g in groups.values() for r in g])
    for i, (key, grp) in enumerate(groups.items()):
        color = PALETTE[i % len(PALETTE)]
        _fid_traces(fig, grp, "" if len(groups) == 1 else eval_tag(key), color)
        _reference_lines(fig, "fid", key, grp, untrained, "" if len(groups) == 1 else eval_tag(key))
    title = f"FID ({eval_tag(next(iter(groups)))})" if len(groups) == 1 else \
        "FID: extractor or N changed during the run, one series each"
    fig.update_layout(title=_title(title), xaxis_title="epoch", yaxis_title=axis_title("fid"), **LAYOUT)
    fig.update_layout(legend_traceorder="normal", meta={**(fig.layout.meta or {}), "metric": "fid",
                                                        "keys": [list(k) for k in groups]})
    return _epoch_axis(fig, [num(r["epoch"]) for g in groups.values() for r in g])


def _fit(fig: go.Figure, metric: str, groups: dict[tuple[str, int], list[dict[str, Any]]],
         untrained: Optional[dict[str, Any]], values: list[float]) -> None:
    """The y axis of a FID or KID figure: the curve (`values`, scaled), the floors as drawn (a
    KID floor below 0 at 0) and, when near, the ceilings."""
    m = METRICS.get(metric)
    floors = [max(0.0, f) * m.scale for f in (latest(g, f"{metric}_floor") for g in groups.values()) if f is not None]
    ceilings = [c * m.scale for c in (ceiling_value(untrained, metric, k) for k in groups) if c is not None]
    fit_axis(fig, values, min(floors) if floors else None, max(ceilings) if ceilings else None)


def _reference_lines(fig: go.Figure, metric: str, key: tuple[str, int], grp: list[dict[str, Any]],
                     untrained: Optional[dict[str, Any]], label: str = "") -> None:
    xs = [num(r["epoch"]) for r in grp]
    reference_line(fig, FLOOR, metric, latest(grp, f"{metric}_floor"), xs, label,
                   std=latest(grp, f"{metric}_floor_std"))
    reference_line(fig, CEILING, metric, ceiling_value(untrained, metric, key), xs, label)


def kid_figure(rows: Sequence[dict[str, Any]], untrained: Optional[dict[str, Any]] = None) -> Optional[go.Figure]:
    """KID ×10³ over epochs with ± 1 std error bars (over its random subsets), the floor (0 when
    below: KID is unbiased) and (with `untrained`) the ceiling, on a fitted axis."""
    groups = {k: [r for r in g if finite_or_none(r.get("kid")) is not None] for k, g in eval_groups(rows).items()}
    groups = {k: g for k, g in groups.items() if g}
    if not groups:
        return None
    untrained = untrained or untrained_record(rows)
    m = METRICS.get("kid")
    fig = go.Figure()
    _fit(fig, "kid", groups, untrained, [(num(r["kid"]) + (finite_or_none(r.get("kid_std")) or 0.0)) * m.scale
                                         for g in groups.values() for r in g])
    for i, (key, grp) in enumerate(groups.items()):
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(
            x=[num(r["epoch"]) for r in grp], y=[num(r["kid"]) * m.scale for r in grp],
            error_y={"type": "data", "array": [(finite_or_none(r.get("kid_std")) or 0.0) * m.scale for r in grp],
                     "visible": True},
            name=f"{m.label} ± 1 std" if len(groups) == 1 else f"{m.label} ({eval_tag(key)})", mode="lines+markers",
            line={"color": color}, hovertemplate="%{y:.2f}"))
        _reference_lines(fig, "kid", key, grp, untrained, "" if len(groups) == 1 else eval_tag(key))
    title = (f"{m.label} ({eval_tag(next(iter(groups)))})" if len(groups) == 1
             else f"{m.label}, one series per extractor and N")
    fig.update_layout(title=_title(title), xaxis_title="epoch", yaxis_title=axis_title("kid"),
                      showlegend=True, **LAYOUT)
    fig.update_layout(meta={**(fig.layout.meta or {}), "metric": "kid", "keys": [list(k) for k in groups]})
    return _epoch_axis(fig, [num(r["epoch"]) for g in groups.values() for r in g])


def fid_compare_figures(histories: dict[str, Sequence[dict[str, Any]]],
                        untrained: Optional[dict[str, Optional[dict[str, Any]]]] = None
                        ) -> list[tuple[tuple[str, int], go.Figure]]:
    """FID over epochs of several runs, one figure per (extractor, N): runs are overlaid only
    where both match, since FID from another feature space or sample size is another number.
    Each figure has the floor (one line per distinct value: runs on the same data share it) and
    each run's untrained ceiling, from `untrained` (run name -> its epoch-0 record)."""
    by_key: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = {}
    for run_name, rows in histories.items():
        for key, grp in eval_groups(rows).items():
            by_key.setdefault(key, {})[run_name] = grp
    out = []
    for key, runs in by_key.items():
        fig = go.Figure()
        xs = [num(r["epoch"]) for g in runs.values() for r in g]
        _fit(fig, "fid", {(run, key[1]): g for run, g in runs.items()}, None,
             [num(r["fid"]) + 2 * (finite_or_none(r.get("fid_std")) or 0.0) for g in runs.values() for r in g])
        floors: dict[str, tuple[float, list[str]]] = {}  # shown value -> (value, runs)
        for run_name, grp in runs.items():
            color = PALETTE[list(histories).index(run_name) % len(PALETTE)]
            _fid_traces(fig, grp, run_name, color, smooth=False)
            floor = latest(grp, "fid_floor")
            if floor is not None:
                floors.setdefault(METRICS.get("fid").tile_text(floor), (floor, []))[1].append(run_name)
            ceiling = ceiling_value((untrained or {}).get(run_name), "fid", key)
            reference_line(fig, CEILING, "fid", ceiling, xs, run_name, color)
        for value, names in floors.values():
            reference_line(fig, FLOOR, "fid", value, xs, "" if len(floors) == 1 else ", ".join(names))
        fig.update_layout(title=_title(f"FID ({eval_tag(key)})"), xaxis_title="epoch",
                          yaxis_title=axis_title("fid"), **LAYOUT)
        out.append((key, _epoch_axis(fig, xs)))
    return out


def class_hist_figure(real_hist: Sequence[float], gen_hists: dict[str, Sequence[float]],
                      class_names: Optional[Sequence[str]] = None, title: str = "Classes") -> go.Figure:
    """Share of real and generated samples the classifier puts in each class (shares, since
    the two sets may differ in size)."""
    names = list(class_names or [])
    if len(names) != len(real_hist):
        names = [str(i) for i in range(len(real_hist))]
    fig = go.Figure()

    def shares(h: Sequence[float]) -> list[float]:
        tot = float(sum(h)) or 1.0
        return [v / tot for v in h]

    fig.add_trace(go.Bar(x=names, y=shares(real_hist), name="real", marker_color="#7f7f7f"))
    for i, (name, h) in enumerate(gen_hists.items()):
        fig.add_trace(go.Bar(x=names, y=shares(h), name=name, marker_color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(title=_title(title), barmode="group", xaxis_title="predicted class",
                      yaxis_title="share of samples", yaxis_tickformat=".0%", xaxis_type="category", **LAYOUT)
    return fig


def per_class_figure(fid_per_class: Optional[Sequence[float]], label_acc_per_class: Optional[Sequence[float]],
                     tag: str, class_names: Optional[Sequence[str]] = None) -> go.Figure:
    """A conditional model's FID per requested class and, when the extractor classifies the
    data's classes, the share of samples recognised as the requested class."""
    n = len(fid_per_class or label_acc_per_class or [])
    names = list(class_names or [])
    if len(names) != n:
        names = [str(i) for i in range(n)]
    panels = [p for p in (("FID per class", fid_per_class), ("label accuracy per class", label_acc_per_class)) if p[1]]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels])
    for i, (name, vals) in enumerate(panels, start=1):
        y = [finite_or_none(v) for v in vals]
        fig.add_trace(go.Bar(x=names, y=y, name=name, marker_color=PALETTE[i - 1], showlegend=False), row=1, col=i)
        fig.update_xaxes(title_text="requested class", type="category", row=1, col=i)
        if name.startswith("label"):
            fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=i)
    fig.update_layout(title=_title(f"Per class ({tag})"), **{**LAYOUT, "hovermode": "x"})
    return fig


def load_grid(path: str | Path, scale: int = 2) -> Image.Image:
    """A saved sample grid enlarged without blurring (the browser would smear 28 px digits)."""
    with Image.open(path) as im:
        if scale > 1:
            return im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
        return im.copy()

"""A run's history drawn on its charts: live edits, the fork point and a growing GAN's stages
as vertical lines, each fork ancestor's curve dotted from where the branch left it, and the
untrained generator's ceiling on FID and KID figures drawn without one.

    ctx = lineage_context(run)
    annotate(loss_figure(rows), ctx, {"d_loss": "D loss"})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import plotly.graph_objects as go

from ganlib.core.numbers import finite_or_none
from ganlib.engine.forks import lineage
from ganlib.models.stylegan import stage_sizes
from ganlib.store.run_folder import Run
from ganlib.ui.charts import COLORS, LAYOUT, ceiling_value, eval_key, eval_tag, evaluated, num
from ganlib.ui.reference_lines import CEILING, reference_line, run_untrained


@dataclass
class Lineage:
    """What a run's curves are annotated with: its hyperparameter changes (live edits and the
    fork point), for a fork each ancestor's curve from where the branch left it, and the
    untrained generator's evaluation (the ceiling of its FID and KID charts)."""
    edits: list[dict[str, Any]] = field(default_factory=list)
    parents: list[tuple[str, int, list[dict[str, Any]]]] = field(default_factory=list)  # (name, branch epoch, rows)
    untrained: Optional[dict[str, Any]] = None  # the epoch-0 record of evals.jsonl, if the run has one
    stages: list[tuple[float, str]] = field(default_factory=list)  # (epoch, text): a growing GAN's new sizes


def lineage_context(run: Optional[Run]) -> Lineage:
    if run is None:
        return Lineage()
    chain = lineage(run)
    parents = []
    for child, parent in zip(chain, chain[1:]):
        branch = int((child.fork_info() or {}).get("epoch", 0))
        parents.append((parent.name, branch, [r for r in parent.metrics() if num(r.get("epoch")) >= branch]))
    rows = run.metrics()
    return Lineage(edits=run.edits(), parents=parents, untrained=run_untrained(run),
                   stages=stage_marks(rows, int(run.config().image_size)) if rows and "stage" in rows[0] else [])


def stage_marks(rows: Sequence[dict[str, Any]], image_size: int) -> list[tuple[float, str]]:
    """Where a progressively grown run (stylegan) moved to a larger size: the epoch whose row
    first shows the new stage (its last step's), half an epoch back, with the size it grew to."""
    sizes, marks, prev = stage_sizes(image_size), [], None
    for r in rows:
        stage = finite_or_none(r.get("stage"))
        if stage is None:
            continue
        if prev is not None and stage != prev and 0 <= int(stage) < len(sizes):
            size = sizes[int(stage)]
            text = f"grows to {size}×{size} (α {num(r.get('alpha')):.2f} at the epoch's end)"
            marks.append((num(r.get("epoch")) - 0.5, text))
        prev = stage
    return marks


def edit_text(edit: dict[str, Any], short: bool = False) -> str:
    """"fork: lr_d 0.0002 → 0.0001" (or, `short`, "fork: lr_d") for a chart marker."""
    kind = "fork" if edit.get("source") == "fork" else "edit"
    changes = edit.get("changes") or {}
    if short:
        return f"{kind}: " + (", ".join(changes) or "no change")
    return f"{kind} after epoch {edit.get('epoch')}: " + (changes_text(changes) or "no change")


def changes_text(changes: dict[str, Any]) -> str:
    """"lr_d 0.0002 → 0.0001, n_critic 1 → 5" from {field: (old, new)}."""
    return ", ".join(f"{k} {_fmt(a)} → {_fmt(b)}" for k, (a, b) in changes.items())


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def annotate(fig: Optional[go.Figure], ctx: Lineage, series: dict[str, str],
             rows: Optional[Sequence[dict[str, Any]]] = None) -> Optional[go.Figure]:
    """Dotted curves of the fork's ancestors (their `series` columns, from the branch epoch on),
    a vertical line at every edit, its full text on hover, and on a FID or KID figure the
    untrained generator's ceiling when the run has one. With `rows` (the run's own), an
    ancestor's metric values are drawn only where their extractor and N match the run's."""
    if fig is None:
        return None
    _context_ceiling(fig, ctx)
    keys = {eval_key(r) for r in evaluated(rows)} if rows is not None else None
    if ctx.parents:  # the parents' entries make the legend taller: keep it clear of the title
        fig.update_layout(margin={**LAYOUT["margin"], "t": LAYOUT["margin"]["t"] + 25})
    for i, (name, _branch, parent_rows) in enumerate(ctx.parents):
        for col, label in series.items():
            pts = [(r["epoch"], finite_or_none(r.get(col))) for r in parent_rows
                   if finite_or_none(r.get(col)) is not None and (keys is None or eval_key(r) in keys)]
            if not pts:
                continue
            fig.add_trace(go.Scatter(
                x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers" if len(pts) < 3 else "lines",
                name=f"{label}, parent {name}",
                line={"color": COLORS.get(col, "#7f7f7f"), "width": 1.5, "dash": "dot"}, opacity=0.55 / (1 + i),
                hovertemplate=f"parent {name}: %{{y:.4g}}<extra></extra>"))
    for e in ctx.edits:
        fig.add_vline(x=num(e.get("epoch")), line_dash="dash", line_color="#9467bd", line_width=1,
                      annotation={"text": edit_text(e, short=True), "hovertext": edit_text(e),
                                  "font": {"size": 10, "color": "#9467bd"}},
                      annotation_position="bottom right")
    for epoch, text in ctx.stages:
        fig.add_vline(x=epoch, line_dash="dot", line_color="#8c564b", line_width=1,
                      annotation={"text": text.split(" (")[0], "hovertext": text,
                                  "font": {"size": 10, "color": "#8c564b"}},
                      annotation_position="top left")
    return fig


def _context_ceiling(fig: go.Figure, ctx: Lineage) -> None:
    """The ceiling of a `fid_figure` / `kid_figure` drawn without one, from the run's context."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    metric, keys = meta.get("metric"), [tuple(k) for k in meta.get("keys") or []]
    if ctx.untrained is None or metric not in ("fid", "kid") or any(t.meta == CEILING for t in fig.data):
        return
    xs = [x for t in fig.data if t.meta is None and t.x is not None for x in t.x if isinstance(x, (int, float))]
    for key in keys:
        value = ceiling_value(ctx.untrained, metric, (str(key[0]), int(key[1])))
        reference_line(fig, CEILING, metric, value, xs, "" if len(keys) == 1 else eval_tag(key))

"""Evaluation views shared by the Train and Evaluate pages: metric tiles, the health verdict,
best-FID and engine notes, per-class charts, and the metric table.

    evaluate_view.alerts(run, rows)            # health verdict, early-stop / fallback notes, best FID
    evaluate_view.tiles(rows, num_classes)     # latest precision, recall, IS, classes, KL, label acc
    evaluate_view.per_class(run, key="...")    # conditional models: FID and label accuracy per class

Every value shown names its extractor and N; rows without an evaluation are skipped.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import streamlit as st

from ganlib.core.numbers import finite_or_none
from ganlib.data import cached_run_data
from ganlib.metrics.evaluation import DEFAULT_N
from ganlib.metrics.extractor_choice import ExtractorChoice, choose_for_config
from ganlib.metrics.health import ceiling_of
from ganlib.metrics.metric_registry import METRICS, shown_metrics
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict
from ganlib.ui import charts, health_view
from ganlib.ui.reference_lines import run_untrained

TILE_COLUMNS = [n for n in METRICS if METRICS.get(n).tile]  # image metrics, then a translator's


def alerts(run: Optional[Run], rows: Sequence[dict[str, Any]]) -> None:
    """The health verdict (`metrics.health`: learning, mode collapse, D winning, diverged...),
    the engine's notes (early stop, extractor fallback) and the best FID so far with the
    checkpoint that holds it."""
    if run is not None:
        health_view.box(run_verdict(run, rows))
    status = run.status() if run is not None else {}
    for note in status.get("notes") or []:
        st.info(note, icon=":material/info:")
    ev = charts.evaluated(rows)
    if ev:
        best = min(ev, key=lambda r: finite_or_none(r["fid"]))
        fid, epoch = finite_or_none(best["fid"]), int(finite_or_none(best["epoch"]))
        untrained = run_untrained(run) if run is not None else None
        ceiling = ceiling_of([untrained], best) if untrained else None
        holder = ""
        if ceiling is not None and fid >= ceiling:
            holder = (f" · **no `ckpt/best.pt`**: no evaluation has beaten the untrained generator's {ceiling:.2f}, "
                      "and a generator worse than where the run started is not kept")
        elif run is not None and run.best_checkpoint_path().is_file():
            holder = " · `ckpt/best.pt` holds this generator (open it on **Evaluate**)"
        st.markdown(f"**Best FID so far:** {fid:.2f} at epoch {epoch} ({charts.eval_tag(best)}){holder}")


def tiles(rows: Sequence[dict[str, Any]], num_classes: Optional[int] = None) -> bool:
    """The latest evaluation's precision, recall, IS, classes covered, class KL and (conditional
    models) label accuracy as st.metric tiles, with the change since the previous evaluation of
    the same extractor and N. A value is only the number, so it fits a narrow tile; its ± std
    heads the tile's help. Returns False when nothing has been evaluated yet."""
    groups = charts.eval_groups(rows)
    if not groups:
        return False
    last = charts.evaluated(rows)[-1]
    same = groups[charts.eval_key(last)]
    prev = same[-2] if len(same) > 1 else None
    shown = [METRICS.get(c) for c in TILE_COLUMNS if finite_or_none(last.get(c)) is not None]
    cols = st.columns(max(1, len(shown)))
    for col, m in zip(cols, shown):
        name, std = m.name, m.std
        v = finite_or_none(last.get(name))
        text = m.tile_text(v)
        if name == "classes_covered" and num_classes:
            text += f" / {num_classes}"
        help_text = m.help
        if std and finite_or_none(last.get(std)) is not None:
            help_text = f"**{m.title} {text} ± {m.tile_text(finite_or_none(last[std]))}**\n\n{m.help}"
        delta = None
        p = finite_or_none(prev.get(name)) if prev else None
        if p is not None:
            delta = m.tile_text(v - p, signed=True)
            if float(delta.rstrip("%")) == 0:  # "+0.000": no arrow, no colour
                delta = None
        col.metric(m.title, text, delta=delta, help=help_text,
                   delta_color="inverse" if m.lower_is_better else "normal")
    st.caption(f"Epoch {int(finite_or_none(last['epoch']))} evaluation · {charts.eval_tag(last)} "
               f"(extractor, generated samples; the real reference has the same N)"
               + (f" · change since epoch {int(finite_or_none(prev['epoch']))}" if prev else ""))
    return True


def latest_record(run: Optional[Run]) -> Optional[dict[str, Any]]:
    """The newest full evaluation record of evals.jsonl, or None."""
    if run is None:
        return None
    try:
        ev = run.evals()
    except (OSError, ValueError):  # a file being rewritten: next refresh
        return None
    return ev[-1] if ev else None


def num_classes_of(record: Optional[dict[str, Any]]) -> Optional[int]:
    if record and record.get("real_hist"):
        return len(record["real_hist"])
    return None


def per_class(record: Optional[dict[str, Any]], key: str, class_names: Optional[Sequence[str]] = None) -> bool:
    """Bar charts of FID and label accuracy per requested class (conditional models)."""
    if not record or not (record.get("fid_per_class") or record.get("label_acc_per_class")):
        return False
    fig = charts.per_class_figure(record.get("fid_per_class"), record.get("label_acc_per_class"),
                                  f"epoch {record.get('epoch')}, {charts.eval_tag(record)}", class_names)
    st.plotly_chart(fig, key=key)
    return True


def metric_table(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (run, checkpoint, metric, value, ± std, extractor, N) of computed results, values as
    their labels say (KID ×10³), the std as text in its metric's format, empty where the metric
    has none (a number column would show a grey "None" there); metrics that do not apply (NaN: IS without logits, label
    accuracy of unconditional models) are left out."""
    out = []
    for m in shown_metrics():
        name, std = m.name, m.std
        for res in results:
            row = res["row"]
            v = finite_or_none(row.get(name))
            if v is None:
                continue
            s = finite_or_none(row.get(std)) if std else None
            out.append({"run": res["details"].get("run"), "checkpoint": res["details"].get("checkpoint"),
                        "metric": m.title, "value": v * m.scale, "± std": "" if s is None else m.table_text(s),
                        "extractor": row.get("extractor"), "N": int(row.get("eval_n") or 0)})
    return out


# ---- Evaluate page helpers -----------------------------------------------------------------
@st.cache_data(show_spinner="Reading the run's data...", ttl=600)
def data_size(config_json: str) -> int:
    """Images the run trained on; cached, the page asks on every rerun."""
    return len(cached_run_data(TrainConfig.from_json(config_json)))


@st.cache_data(show_spinner="Choosing the feature extractor that fits the data...", ttl=300)
def chosen_extractor(name: str, config_json: str) -> ExtractorChoice:
    """The extractor that fits the run's data, or none and why (`extractor_choice`); cached for
    a few minutes, so a failed Inception lookup is not retried on every rerun but weights put
    in place are found soon."""
    return choose_for_config(name, TrainConfig.from_json(config_json))


def extractor_line(choice: ExtractorChoice) -> None:
    """One line under the extractor: a warning when no extractor fits (no FID, KID, precision or
    recall, and what would give them), or when the one asked for was made for other data."""
    if choice.name is None:
        st.warning(choice.note, icon=":material/cloud_off:")
    elif choice.note and not choice.note.startswith("auto"):
        st.warning(choice.note, icon=":material/warning:")
    elif choice.note:
        st.caption(choice.note[:1].upper() + choice.note[1:] + ".")


def n_slider(size: int, key: str) -> int:
    """N generated samples (and real reference images): default min(10,000, data size)."""
    hi = min(50_000, size)
    if hi >= 1000:
        lo, step = 500, 100
    else:
        lo, step = min(10, hi), 1
    if lo >= hi:
        st.caption(f"N = {hi} (the run's data holds only {size} images)")
        return hi
    default = min(DEFAULT_N, size)
    default = min(hi, max(lo, default - (default - lo) % step))
    return int(st.slider("N: generated samples (and real images)", lo, hi, default, step, key=key,
                         help="FID is biased by N: compare values only at equal N and extractor. Papers use "
                              "50,000; N below the feature dimension gives a singular covariance."))

"""Compare runs: which config fields differ, their metric curves side by side, their latest
grids, and a config to start a new run from. Plain data only; the Compare runs page draws it.

    from ganlib.explore.run_comparison import config_diff, curve_columns, curves, latest_grid, clone_config
    fields, rows = config_diff(runs)          # only the fields whose values differ
    cols = curve_columns(runs)                # e.g. ["d_loss", "g_loss", "fid", ...] present in any run
    data = curves(runs, ["g_loss", "fid"])    # {column: {run name: (epochs, values)}}
    epoch, path = latest_grid(run)            # the newest sample grid, or None
    cfg = clone_config(run)                   # a TrainConfig dict to prefill the Train page
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

from ganlib.core.numbers import finite_or_none
from ganlib.metrics.metric_registry import EVAL_INFO, METRICS, TRAINING, metric_label, shown_metrics
from ganlib.store.config import TrainConfig, field_specs
from ganlib.store.run_folder import Run

# Curves in the order they are offered: the training statistics, then the evaluation metrics,
# as `metric_registry` lists them; any other numeric column follows. Labels come from there too.
CURVE_ORDER = TRAINING + tuple(m.name for m in shown_metrics() if m.curve)
DEFAULT_CURVES = ("d_loss", "g_loss", "neg_elbo")  # the losses; FID has its own charts, per extractor and N
NOT_CURVES = {"epoch", "images_per_sec", "epoch_time_s", "elapsed_s", *EVAL_INFO,
              *(n for n in METRICS if not METRICS.get(n).curve)}

def run_config(run: Run) -> dict[str, Any]:
    """The run's config as a dict; a config.json that no longer loads gives its raw JSON."""
    try:
        return run.config().to_dict()
    except Exception:  # noqa: BLE001 - a hand-edited or older config still compares
        try:
            return dict(json.loads(run.config_file.read_text()))
        except Exception:  # noqa: BLE001
            return {}


def differing_fields(configs: Sequence[dict[str, Any]]) -> list[str]:
    """Config fields whose values are not all equal, in TrainConfig's field order (then any
    unknown keys). With fewer than two configs nothing differs."""
    if len(configs) < 2:
        return []
    order = [f.name for f in field_specs()]
    keys = order + sorted({k for c in configs for k in c} - set(order))
    missing = object()
    return [k for k in keys if len({repr(c.get(k, missing)) for c in configs}) > 1]


def config_diff(runs: Sequence[Run]) -> tuple[list[str], list[dict[str, Any]]]:
    """(differing fields, one row per run: {"run": name, field: value, ...})."""
    configs = [run_config(r) for r in runs]
    fields = differing_fields(configs)
    return fields, [{"run": r.name, **{f: c.get(f) for f in fields}} for r, c in zip(runs, configs)]


def curve_columns(runs: Sequence[Run]) -> list[str]:
    """Numeric metric columns that at least one run has a value for, preferred ones first."""
    seen: dict[str, None] = {}
    for r in runs:
        for row in r.metrics():
            for k, v in row.items():
                if k not in NOT_CURVES and finite_or_none(v) is not None:
                    seen.setdefault(k)
    pref = [c for c in CURVE_ORDER if c in seen]
    return pref + [c for c in seen if c not in pref]


def default_curves(columns: Sequence[str]) -> list[str]:
    return [c for c in DEFAULT_CURVES if c in columns] or list(columns[:2])


def curves(runs: Sequence[Run], columns: Sequence[str]) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """{column: {run name: (epochs, values)}}, leaving out epochs without a value (FID is only
    measured every few epochs) and runs without the column."""
    out: dict[str, dict[str, tuple[list[float], list[float]]]] = {c: {} for c in columns}
    for r in runs:
        rows = r.metrics()
        for c in columns:
            pts = [(finite_or_none(row.get("epoch")), finite_or_none(row.get(c))) for row in rows]
            pts = [(e, v) for e, v in pts if e is not None and v is not None]
            if pts:
                out[c][r.name] = ([e for e, _ in pts], [v for _, v in pts])
    return out


def latest_grid(run: Run) -> Optional[tuple[int, Path]]:
    """The newest sample grid (epoch, path), or None before the first one is written."""
    s = run.samples()
    return s[-1] if s else None


def clone_config(run: Run) -> dict[str, Any]:
    """The run's config as a starting point for a new run (every TrainConfig field; checked by
    TrainConfig, so a config the current code refuses raises ConfigError naming the field)."""
    return TrainConfig.from_dict(run_config(run)).to_dict()


def label(column: str) -> str:
    return metric_label(column)

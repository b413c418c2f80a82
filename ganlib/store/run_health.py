"""A run's health verdict read from its folder, and the runs-table row that carries it. A run
whose files cannot be read gets "?" instead of breaking the listing it is in.

    run_verdict(run).label          # "learning", "collapse 1/10", "D winning", "diverged", "?"
    summary_row(run)                # Run.summary() plus "health"; "?" cells when unreadable
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from ganlib.metrics.health import UNREADABLE, Verdict, verdict
from ganlib.models import MODELS
from ganlib.store.presets import recipe, suggested_preset
from ganlib.store.run_folder import Run


def run_verdict(run: Run, rows: Optional[Sequence[dict[str, Any]]] = None) -> Verdict:
    """The verdict on a run from metrics.csv (or `rows`: a live job's, fresher than the file),
    evals.jsonl, status.json and the config's loss; a config or evals file that cannot be read
    only removes what it would have told."""
    try:
        rows = list(rows) if rows is not None else run.metrics()
        status = run.status()
    except Exception:  # noqa: BLE001 - any unreadable file (bytes, permissions, a folder) means "?"
        return UNREADABLE
    context: dict = {}
    try:
        cfg = run.config()
        preset = suggested_preset(cfg.channels, cfg.image_size)
        context = dict(loss=cfg.loss, kind=MODELS.get(cfg.model).kind, config=cfg.to_dict(),
                       suggested=(preset, recipe(preset)))
    except Exception:  # noqa: BLE001 - without the config: no loss-specific rule, advice not checked against it
        pass
    try:
        records = run.evals()
    except Exception:  # noqa: BLE001 - without the records the class count and the ceiling are unknown
        records = []
    try:
        return verdict(rows, records, status, **context)
    except Exception:  # noqa: BLE001 - hand-edited cells of the wrong kind
        return UNREADABLE


def summary_row(run: Run) -> dict[str, Any]:
    """`Run.summary()` with the verdict's short label as "health"; a run whose files cannot be
    read lists with "?" (and the reason as its error) rather than breaking the table."""
    try:
        row = run.summary()
    except Exception as e:  # noqa: BLE001 - listed, marked, whatever is wrong with it
        row = {"run": run.name, "status": "?", "model": "?", "dataset": "?", "loss": "?", "epochs": None,
               "epoch": None, "d_loss": None, "g_loss": None, "checkpoints": None,
               "error": f"unreadable: {type(e).__name__}: {' '.join(str(e).split())[:120]}"}
        row["health"] = "?"
        return row
    row["health"] = run_verdict(run).label
    return row

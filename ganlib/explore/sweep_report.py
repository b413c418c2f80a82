"""A sweep's results, read from its trials' run folders (live while it runs, final at its end):
one row per trial, per setting the median and IQR over seeds of the final FID and of the time
to quality, and a plain verdict for each pair of settings.

    rows = trial_rows(sweep)          # setting, seed, state, final_fid, time_to_quality_s, ...
    table = summary(rows)             # one row per setting, best (lowest median FID) first
    words = verdicts(table)           # [{"a", "b", "differ", "text"}]
    write_tables(sweep)               # results.csv, summary.csv, verdicts.json
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Optional

from ganlib.core.numbers import finite_or_none
from ganlib.explore.run_comparison import run_config
from ganlib.explore.seed_groups import band, differ, quartiles
from ganlib.store.sweep_folder import Sweep, TrialRun
from ganlib.store.sweep_spec import SweepSpec, setting_label


def fid_points(run: TrialRun) -> tuple[list[float], list[float]]:
    """(elapsed seconds, FID) of every evaluated epoch."""
    pts = [(finite_or_none(r.get("elapsed_s")), finite_or_none(r.get("fid"))) for r in run.metrics()]
    pts = [(t, f) for t, f in pts if t is not None and f is not None]
    return [t for t, _ in pts], [f for _, f in pts]


def trial_row(run: TrialRun, spec: SweepSpec) -> dict[str, Any]:
    cfg = run_config(run)
    setting = {k: cfg.get(k) for k in spec.varied}
    times, fids = fid_points(run)
    rows = run.metrics()
    reached = next((t for t, f in zip(times, fids) if f <= spec.quality_fid), None)
    return {"setting": setting_label(setting), "seed": cfg.get("seed"), "state": run.status().get("state", "?"),
            "epochs": len(rows), "final_fid": fids[-1] if fids else None, "best_fid": min(fids) if fids else None,
            "time_to_quality_s": reached,
            "wall_s": finite_or_none(rows[-1].get("elapsed_s")) if rows else None, "run": run.name, **setting}


def trial_rows(sweep: Sweep) -> list[dict[str, Any]]:
    spec = sweep.spec()
    return [trial_row(r, spec) for r in sweep.trials()]


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per setting: seeds done, median and IQR of the final FID and of the time to quality
    (over the seeds that reached it), sorted best first."""
    out = []
    for label in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == label]
        f1, fm, f3 = quartiles([r["final_fid"] for r in mine])
        ttq = [r["time_to_quality_s"] for r in mine if r["time_to_quality_s"] is not None]
        t1, tm, t3 = quartiles(ttq)
        out.append({"setting": label, "seeds": len(mine), "fid_median": fm, "fid_q1": f1, "fid_q3": f3,
                    "reached_quality": f"{len(ttq)}/{len(mine)}", "ttq_median_s": tm, "ttq_q1_s": t1, "ttq_q3_s": t3})
    return sorted(out, key=lambda r: (math.isnan(r["fid_median"]), r["fid_median"]))


def _iqr(r: dict[str, Any], what: str) -> tuple[float, float, float]:
    pre, suf = ("fid", "") if what == "fid" else ("ttq", "_s")
    return r[f"{pre}_q1{suf}"], r[f"{pre}_median{suf}"], r[f"{pre}_q3{suf}"]


def verdicts(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For every pair of settings, in words: does the final FID differ beyond the seed spread
    (interquartile ranges that do not overlap)?"""
    out = []
    for a, b in itertools.combinations(table, 2):
        qa, qb = _iqr(a, "fid"), _iqr(b, "fid")
        d = differ(qa, qb)
        seeds = min(a["seeds"], b["seeds"])
        if d is None:
            text = f"{a['setting']} vs {b['setting']}: no FID yet for one of them."
        elif d:
            better, worse = (a, b) if qa[1] < qb[1] else (b, a)
            text = (f"{better['setting']} beats {worse['setting']} beyond the seed spread: median FID "
                    f"{better['fid_median']:.1f} (IQR {better['fid_q1']:.1f}-{better['fid_q3']:.1f}) vs "
                    f"{worse['fid_median']:.1f} ({worse['fid_q1']:.1f}-{worse['fid_q3']:.1f}), {seeds} seeds each.")
        else:
            text = (f"{a['setting']} and {b['setting']} do not differ beyond the seed spread: their FID IQRs "
                    f"overlap ({qa[0]:.1f}-{qa[2]:.1f} and {qb[0]:.1f}-{qb[2]:.1f}, {seeds} seeds); "
                    "more seeds or a longer budget may separate them.")
        out.append({"a": a["setting"], "b": b["setting"], "differ": d, "text": text})
    return out


def fid_vs_time(sweep: Sweep) -> dict[str, tuple[list[float], list[float], list[float], list[float]]]:
    """{setting: (seconds, q1, median, q3)}: FID against wall time, the seeds' spread as a band."""
    spec = sweep.spec()
    by: dict[str, list[tuple[list[float], list[float]]]] = {}
    for run in sweep.trials():
        label = setting_label({k: run_config(run).get(k) for k in spec.varied})
        pts = fid_points(run)
        if pts[0]:
            by.setdefault(label, []).append(pts)
    return {k: band(v, interpolate=len(v) > 1) if len(v) > 1 else (v[0][0], v[0][1], v[0][1], v[0][1])
            for k, v in by.items()}


def best_trial(sweep: Sweep, table: Optional[list[dict[str, Any]]] = None) -> Optional[TrialRun]:
    """The best setting's trial with the lowest final FID (what "Clone into Train" starts from)."""
    table = table if table is not None else summary(trial_rows(sweep))
    if not table or math.isnan(table[0]["fid_median"]):
        return None
    rows = [r for r in trial_rows(sweep) if r["setting"] == table[0]["setting"] and r["final_fid"] is not None]
    name = min(rows, key=lambda r: r["final_fid"])["run"]
    return next(t for t in sweep.trials() if t.name == name)


def write_tables(sweep: Sweep) -> list[dict[str, Any]]:
    rows = trial_rows(sweep)
    table = summary(rows)
    sweep.write_tables(rows, table, verdicts(table))
    return table

"""Seed-replicated comparisons: GAN results are seed-dependent, so one run per setting is not
evidence. Runs that differ only by seed form a group; a group's curve is the median over its
seeds with the interquartile range as a band, and two settings "differ" only when their IQRs do
not overlap.

    groups = seed_groups(runs)                       # [(label, [runs])], largest first
    bands = group_bands(groups, "fid")               # {label: (epochs, q1, median, q3)}
    x, q1, med, q3 = band([(xs, ys) for each seed])  # on the x values all seeds share
    q1, med, q3 = quartiles([30.1, 28.4, 35.0])
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from ganlib.explore.run_comparison import curves, run_config
from ganlib.store.config import field_specs
from ganlib.store.run_folder import Run

# How a run is scheduled or computed, not what it trains: runs differing only in these (and the
# seed) replicate one setting.
IGNORED_ROLES = ("speed", "schedule")


def ignored_fields() -> set[str]:
    return {"seed"} | {f.name for f in field_specs() if f.metadata.get("role") in IGNORED_ROLES}


def setting_key(config: dict[str, Any]) -> str:
    skip = ignored_fields()
    return repr(sorted((k, repr(v)) for k, v in config.items() if k not in skip))


def seed_groups(runs: Sequence[Run]) -> list[tuple[str, list[Run]]]:
    """Runs grouped by their config without the seed (and the speed and schedule fields); each
    group labelled by its runs' seeds. A group's seeds differ: a second run with a seed its group
    already has (an imported copy, a rerun) repeats a run rather than replicating the setting, so
    it starts a group of its own. Groups of one run are kept (a setting with one seed)."""
    groups: dict[str, list[list[Run]]] = {}  # setting -> groups of runs with distinct seeds
    for r in runs:
        cfg = run_config(r)
        same = groups.setdefault(setting_key(cfg), [])
        home = next((g for g in same if all(run_config(m).get("seed") != cfg.get("seed") for m in g)), None)
        if home is None:
            same.append([r])
        else:
            home.append(r)
    out = []
    for members in (g for same in groups.values() for g in same):
        seeds = ", ".join(str(run_config(r).get("seed", "?")) for r in members)
        out.append((f"{members[0].name} + {len(members) - 1} more (seeds {seeds})" if len(members) > 1
                    else members[0].name, members))
    return sorted(out, key=lambda g: -len(g[1]))


def group_bands(groups: Sequence[tuple[str, list[Run]]], column: str) -> dict[str, tuple[list[float], ...]]:
    """{group label: (epochs, q1, median, q3)} of `column` for the groups of two runs or more."""
    out = {}
    for label, members in groups:
        if len(members) > 1:
            series = list(curves(members, [column])[column].values())
            if len(series) > 1:
                out[label] = band(series)
    return out


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of the finite values; NaNs when there are none."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if not v:
        return math.nan, math.nan, math.nan
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return float(q1), float(med), float(q3)


def band(series: Sequence[tuple[Sequence[float], Sequence[float]]], *, interpolate: bool = False,
         points: int = 60) -> tuple[list[float], list[float], list[float], list[float]]:
    """(x, q1, median, q3) over seeds. By epoch (`interpolate` False) the x values are those every
    series has; by wall time each series is interpolated onto a shared grid up to the shortest."""
    series = [(list(map(float, x)), list(map(float, y))) for x, y in series if len(x)]
    if not series:
        return [], [], [], []
    if interpolate:
        end = min(x[-1] for x, _ in series)
        start = max(x[0] for x, _ in series)
        if end <= start:
            return [], [], [], []
        grid = list(np.linspace(start, end, points))
        ys = np.array([np.interp(grid, x, y) for x, y in series])
    else:
        common = sorted(set.intersection(*(set(x) for x, _ in series)))
        grid = common
        ys = np.array([[dict(zip(x, y))[e] for e in common] for x, y in series]) if common else np.zeros((0, 0))
    if not grid:
        return [], [], [], []
    q1, med, q3 = np.percentile(ys, [25, 50, 75], axis=0)
    return [float(g) for g in grid], q1.tolist(), med.tolist(), q3.tolist()


def differ(a: tuple[float, float, float], b: tuple[float, float, float]) -> Optional[bool]:
    """Whether two (q1, median, q3) summaries differ beyond the seed spread (IQRs disjoint);
    None when either has no value."""
    if any(math.isnan(x) for x in (*a, *b)):
        return None
    return a[2] < b[0] or b[2] < a[0]

"""A sweep's folder: its spec, its trials (each an ordinary run folder) and its tables.

    checkpoints/sweeps/00002-lr-study/
        sweep.json      the spec (`SweepSpec`), as started
        status.json     state (running, completed, failed), pid, error
        sweep.log       the sweep process's output (Ray Tune's included)
        results.csv     one row per trial: setting, seed, final FID, time to quality, ...
        summary.csv     one row per setting: median and IQR over seeds
        verdicts.json   each pair of settings: do they differ beyond the seed spread?
        00000-mlp_gan-mnist5k/ ...   the trials: run folders every page opens
        tune/           Ray Tune's own experiment state

`Sweep` names these files, as `Run` names a run's. The trials' `Run`s are `TrialRun`s, named
`<sweep>.<run>` so that a picker listing them beside the top-level runs never confuses two.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganlib.core.atomic import atomic_write_text
from ganlib.store.run_folder import Run, list_runs, rows_to_csv, runs_dir
from ganlib.store.sweep_spec import SweepSpec

SWEEPS = "sweeps"  # the subfolder of the runs folder that holds the sweeps
_NUM_RE = re.compile(r"^(\d{5})-")


@dataclass
class TrialRun(Run):
    """A run inside a sweep folder, named after its sweep too."""

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}.{self.path.name}"


@dataclass
class Sweep:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def spec_file(self) -> Path:
        return self.path / "sweep.json"

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    @property
    def log_file(self) -> Path:
        return self.path / "sweep.log"

    @property
    def results_file(self) -> Path:
        return self.path / "results.csv"

    @property
    def summary_file(self) -> Path:
        return self.path / "summary.csv"

    @property
    def verdicts_file(self) -> Path:
        return self.path / "verdicts.json"

    @property
    def tune_dir(self) -> Path:
        return self.path / "tune"

    def spec(self) -> SweepSpec:
        return SweepSpec.from_dict(json.loads(self.spec_file.read_text()))

    def save_spec(self, spec: SweepSpec) -> None:
        atomic_write_text(self.spec_file, json.dumps(spec.to_dict(), indent=2))

    def status(self) -> dict[str, Any]:
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_status(self, **fields: Any) -> None:
        atomic_write_text(self.status_file, json.dumps({**self.status(), **fields}, indent=2))

    def trials(self) -> list[TrialRun]:
        return [TrialRun(r.path) for r in list_runs(self.path)]

    def write_tables(self, results: list[dict[str, Any]], summary: list[dict[str, Any]],
                     verdicts: list[dict[str, Any]]) -> None:
        atomic_write_text(self.results_file, rows_to_csv(results))
        atomic_write_text(self.summary_file, rows_to_csv(summary))
        atomic_write_text(self.verdicts_file, json.dumps(verdicts, indent=2))


def sweeps_root(root: str | Path | None = None) -> Path:
    return runs_dir(root) / SWEEPS


def new_sweep_dir(spec: SweepSpec, root: str | Path | None = None) -> Sweep:
    """`sweeps/NNNNN-name`, numbered after the highest existing sweep; created exclusively."""
    base = sweeps_root(root)
    base.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", spec.name).strip("-")[:40] or "sweep"
    while True:
        nums = [int(m.group(1)) for p in base.iterdir() if (m := _NUM_RE.match(p.name))]
        path = base / f"{max(nums, default=-1) + 1:05d}-{slug}"
        try:
            path.mkdir()
            sweep = Sweep(path)
            sweep.save_spec(spec)
            return sweep
        except FileExistsError:
            continue


def list_sweeps(root: str | Path | None = None) -> list[Sweep]:
    base = sweeps_root(root)
    if not base.is_dir():
        return []
    return [Sweep(p) for p in sorted(base.iterdir()) if (p / "sweep.json").is_file()]


def trial_runs(root: str | Path | None = None) -> list[TrialRun]:
    """Every sweep's trials, for the pickers that list runs."""
    return [t for s in list_sweeps(root) for t in s.trials()]

"""Sweeps: the spec refuses mistakes in one line, the seed statistics are right, and a 2 x 2
sweep (two settings, two seeds) of tiny runs on a local Ray completes and writes its tables."""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import pytest

from ganlib.core.errors import ConfigError
from ganlib.explore import seed_groups, sweep_report
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run
from ganlib.store.sweep_folder import Sweep, list_sweeps, new_sweep_dir, trial_runs
from ganlib.store.sweep_spec import SweepSpec
from tests.helpers import REPO

BASE = {"model": "mlp_gan", "max_images": 256, "batch_size": 64, "epochs": 2, "eval_every": 1,
        "eval_samples": 256, "device": "cpu"}


@pytest.mark.parametrize("values, field", [
    ({"grid": {"lr": [1e-4]}}, "sweep lr"),                                 # not a config field
    ({"grid": {"lr_g": []}}, "sweep lr_g"),                                 # empty grid
    ({"grid": {"lr_g": [1e-4]}, "random": {"lr_d": {"uniform": [0, 1]}}}, "sweep grid"),
    ({"random": {"lr_g": {"normal": [0, 1]}}}, "sweep lr_g"),               # unknown distribution
    ({"seeds": []}, "sweep seeds"),
    ({"seeds": [1, 1]}, "sweep seeds"),
    ({"grid": {"seed": [1, 2]}}, "sweep seed"),                              # seeds have their own key
    ({"time_budget": 0}, "sweep time_budget"),
    ({"grid": {"lr_g": [5.0]}}, "lr_g"),                                    # out of the field's range
    ({"colour": "red"}, "sweep colour"),
])
def test_spec_mistakes_name_the_field(values, field):
    with pytest.raises(ConfigError) as e:
        SweepSpec.from_dict({"base": BASE, **values})
    assert e.value.field == field


def test_grid_and_random_settings():
    grid = SweepSpec.from_dict({"base": BASE, "grid": {"lr_g": [1e-4, 2e-4], "loss": ["hinge", "lsgan"]}})
    assert len(grid.settings()) == 4 and grid.varied == ["lr_g", "loss"]
    rnd = SweepSpec.from_dict({"base": BASE, "random": {"lr_g": {"loguniform": [1e-5, 1e-3]}}, "samples": 5})
    draws = [s["lr_g"] for s in rnd.settings()]
    assert len(draws) == 5 and all(1e-5 <= d <= 1e-3 for d in draws)
    assert draws == [s["lr_g"] for s in rnd.settings()]  # drawn once, the same for every seed
    cfg = rnd.trial_config(rnd.settings()[0], 7)
    assert cfg.seed == 7 and cfg.time_budget == rnd.time_budget


def test_quartiles_band_and_verdict():
    assert seed_groups.quartiles([1, 2, 3, 4, 5]) == (2.0, 3.0, 4.0)
    assert all(math.isnan(x) for x in seed_groups.quartiles([None, float("nan")]))
    x, q1, med, q3 = seed_groups.band([([1, 2, 3], [10, 20, 30]), ([1, 2], [12, 22]), ([1, 2, 3], [14, 24, 34])])
    assert x == [1.0, 2.0] and med == [12.0, 22.0] and q1 == [11.0, 21.0] and q3 == [13.0, 23.0]
    x, _, med, _ = seed_groups.band([([0, 10], [0, 10]), ([0, 5], [0, 10])], interpolate=True, points=3)
    assert x == [0.0, 2.5, 5.0] and med == [0.0, 3.75, 7.5]  # both seeds on the shorter one's span
    assert seed_groups.differ((1, 2, 3), (4, 5, 6)) and not seed_groups.differ((1, 2, 4), (3, 5, 6))


def fake_run(root, n, seed, lr, fids):
    run = Run(root / f"{n:05d}-mlp_gan-mnist5k")
    run.path.mkdir(parents=True)
    run.save_config(TrainConfig(**BASE, seed=seed, lr_g=lr))
    run.write_metrics([{"epoch": i + 1, "d_loss": 1.0, "g_loss": 1.0, "fid": f, "elapsed_s": 10.0 * (i + 1)}
                       for i, f in enumerate(fids)])
    return run


def test_a_copy_with_the_same_seed_is_not_a_seed_replicate(tmp_path):
    """An imported copy (or a rerun) of a run has its seed: it repeats the run, it does not
    replicate the setting (Compare runs said "seeds 0, 0")."""
    a, copy, other = fake_run(tmp_path, 0, 0, 1e-4, [90]), fake_run(tmp_path, 1, 0, 1e-4, [90]), \
        fake_run(tmp_path, 2, 1, 1e-4, [80])
    groups = seed_groups.seed_groups([a, copy, other])
    assert [[r.name for r in g] for _, g in groups] == [[a.name, other.name], [copy.name]]
    assert "seeds 0, 1" in groups[0][0] and "0, 0" not in groups[0][0]


def test_report_groups_seeds_and_gives_a_verdict(tmp_path):
    sweep = new_sweep_dir(SweepSpec.from_dict({"name": "unit", "base": BASE, "grid": {"lr_g": [1e-4, 1e-3]},
                                               "seeds": [0, 1, 2], "quality_fid": 50}), tmp_path)
    for n, (seed, lr, fids) in enumerate([(0, 1e-4, [90, 40]), (1, 1e-4, [80, 45]), (2, 1e-4, [85, 42]),
                                          (0, 1e-3, [95, 70]), (1, 1e-3, [99, 75]), (2, 1e-3, [97, 60])]):
        fake_run(sweep.path, n, seed, lr, fids)
    assert [s.name for s in list_sweeps(tmp_path)] == [sweep.name]
    assert {t.name for t in trial_runs(tmp_path)} == {f"{sweep.name}.{n:05d}-mlp_gan-mnist5k" for n in range(6)}
    table = sweep_report.write_tables(sweep)
    assert [r["setting"] for r in table] == ["lr_g=0.0001", "lr_g=0.001"]
    assert table[0]["fid_median"] == 42 and table[0]["reached_quality"] == "3/3" and table[0]["ttq_median_s"] == 20
    assert table[1]["reached_quality"] == "0/3" and math.isnan(table[1]["ttq_median_s"])
    (v,) = json.loads(sweep.verdicts_file.read_text())
    assert v["differ"] is True and v["text"].startswith("lr_g=0.0001 beats lr_g=0.001")
    assert sweep_report.best_trial(sweep, table).path.name == "00000-mlp_gan-mnist5k"  # FID 40
    groups = seed_groups.seed_groups(sweep.trials())
    assert sorted(len(g) for _, g in groups) == [3, 3]
    x, q1, med, q3 = sweep_report.fid_vs_time(sweep)["lr_g=0.0001"]
    assert x[0] == 10 and x[-1] == 20 and med[-1] == 42


@pytest.mark.slow
def test_two_by_two_sweep_on_local_ray(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"name": "tiny", "base": BASE, "grid": {"lr_g": [2e-4, 1e-3]}, "seeds": [0, 1],
                                "time_budget": 30, "quality_fid": 1000}))
    res = subprocess.run([sys.executable, "-m", "ganlib", "sweep", str(spec), "--runs-dir", str(tmp_path / "runs"),
                          "--num-cpus", "2", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=240,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert res.returncode == 0, res.stderr[-3000:]
    sweep = Sweep(tmp_path / "runs" / "sweeps" / "00000-tiny")
    assert res.stdout.strip() == str(sweep.path)
    with open(sweep.results_file) as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["setting"], r["seed"]) for r in rows) == [
        ("lr_g=0.0002", "0"), ("lr_g=0.0002", "1"), ("lr_g=0.001", "0"), ("lr_g=0.001", "1")]
    assert all(r["state"] == "completed" and math.isfinite(float(r["final_fid"])) for r in rows)
    assert len(sweep.trials()) == 4 and all((t.path / "ckpt").is_dir() for t in sweep.trials())
    with open(sweep.summary_file) as f:
        assert [r["seeds"] for r in csv.DictReader(f)] == ["2", "2"]
    assert "beyond the seed spread" in res.stderr
    assert sweep.status()["state"] == "completed"


@pytest.mark.slow
def test_asha_sweep_completes_and_keeps_every_trial_in_the_table(tmp_path):
    """ASHA may stop the worst trials at its rungs: they stay in the table as interrupted runs."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"name": "asha", "base": {**BASE, "epochs": 4}, "grid": {"lr_g": [2e-4, 1e-3]},
                                "seeds": [0, 1], "time_budget": 30, "quality_fid": 1000, "asha": True}))
    res = subprocess.run([sys.executable, "-m", "ganlib", "sweep", str(spec), "--runs-dir", str(tmp_path / "runs"),
                          "--num-cpus", "2", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=240,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert res.returncode == 0, res.stderr[-3000:]
    with open(tmp_path / "runs" / "sweeps" / "00000-asha" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["state"] for r in rows} <= {"completed", "interrupted"}
    assert all(1 <= int(r["epochs"]) <= 4 and math.isfinite(float(r["final_fid"])) for r in rows)

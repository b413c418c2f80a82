"""Home: the runs with their state and health, the device, and the map of the pages."""
from __future__ import annotations

import shutil

from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict
from ganlib.ui import resources
from tests.helpers import (
    page,
    run,
    texts,
    watch,
)


def test_home_without_runs_points_to_train_and_shows_device(empty_dir):
    at = run(page("app_pages/home.py"))
    assert at.title[0].value == "GAN Workbench"
    assert any("Train" in i.value for i in at.info)
    dev = resources.device_info()["device"]
    assert f"**Device in use:** `{dev}`" in texts(at.markdown)
    assert not at.dataframe


def test_home_lists_runs_with_status_and_last_losses(runs):
    at = run(page("app_pages/home.py"))
    df = at.dataframe[0].value.set_index("run")
    assert {runs.mlp.name, runs.cgan.name, runs.fresh} <= set(df.index)
    assert df.loc[runs.cgan.name, "status"] == "completed"
    assert df.loc[runs.cgan.name, "model"] == "cgan" and df.loc[runs.mlp.name, "model"] == "mlp_gan"
    assert df.loc[runs.mlp.name, "epoch"] == 2 and df.loc[runs.mlp.name, "epochs"] == 2
    assert df.loc[runs.mlp.name, "d_loss"] > 0 and df.loc[runs.mlp.name, "g_loss"] > 0
    assert df.loc[runs.fresh, "checkpoints"] == 0
    assert df.loc[runs.fresh, "health"] == "too early"  # no epoch yet
    assert df.loc[runs.mlp.name, "health"] == run_verdict(Run(runs.mlp.path)).label


def test_home_lists_an_unreadable_run_with_question_marks(runs, tmp_path, monkeypatch):
    shutil.copytree(runs.mlp.path, tmp_path / runs.mlp.name)
    broken = tmp_path / "00009-mlp_gan-mnist5k"
    broken.mkdir()
    shutil.copy(runs.mlp.path / "config.json", broken / "config.json")
    (broken / "metrics.csv").mkdir()  # not a file: reading it fails
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    df = run(page("app_pages/home.py")).dataframe[0].value.set_index("run")
    assert df.loc[broken.name, "health"] == "?" and df.loc[broken.name, "status"] == "?"
    assert df.loc[runs.mlp.name, "status"] == "completed"


def test_home_switches_to_pages(empty_dir):
    at = run(page("app_pages/home.py"))
    at.switch_page("app_pages/train.py")
    assert run(at).title[0].value == "Train"


def test_train_and_home_call_a_run_collapsed_from_its_first_evaluation(eval_runs):
    at = watch(run(page("app_pages/train.py")), eval_runs.collapsed)
    (box,) = at.error
    assert box.value.startswith("**Mode collapse: 1 of 10 classes.**") and "recall 0.00" in box.value
    home = run(page("app_pages/home.py")).dataframe[0].value.set_index("run")
    assert home.loc[eval_runs.collapsed, "health"] == "collapse 1/10"
    assert home.loc[eval_runs.run.name, "health"] == run_verdict(eval_runs.run).label


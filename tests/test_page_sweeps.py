"""The Sweeps page (start a sweep from the Train form's fields, read a sweep's tables and charts,
clone its best setting) and the seed-replicated bands on Compare runs, under AppTest."""
from __future__ import annotations

import time

import pytest

from ganlib.engine import sweep_launch
from ganlib.store.sweep_folder import list_sweeps, new_sweep_dir
from ganlib.store.sweep_spec import SweepSpec
from ganlib.ui.config_form import TRAIN_PREFILL
from tests.helpers import page, run
from tests.test_sweeps import BASE, fake_run

SWEEPS = "app_pages/sweeps.py"


@pytest.fixture
def root(empty_dir):
    return empty_dir


@pytest.fixture
def finished(root):
    """A finished 2 x 3 sweep with hand-written FIDs: lr_g 1e-4 clearly better."""
    sweep = new_sweep_dir(SweepSpec.from_dict({"name": "done", "base": BASE, "grid": {"lr_g": [1e-4, 1e-3]},
                                               "seeds": [0, 1, 2], "quality_fid": 50}), root)
    for n, (seed, lr, fids) in enumerate([(0, 1e-4, [90, 40]), (1, 1e-4, [80, 45]), (2, 1e-4, [85, 42]),
                                          (0, 1e-3, [95, 70]), (1, 1e-3, [99, 75]), (2, 1e-3, [97, 60])]):
        fake_run(sweep.path, n, seed, lr, fids)
    sweep.write_status(state="completed")
    return sweep


def test_no_sweep_yet_explains_and_a_bad_value_is_one_line(root):
    at = run(page(SWEEPS))
    assert any("No sweeps yet" in i.value for i in at.info)
    at.text_input(key="swp_vals_lr_g").set_value("0.0002, 5")  # 5 is beyond lr_g's range
    at.button(key="swp_start").click()
    run(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("lr_g:") and "lr_g=5" in at.error[0].value
    assert not list_sweeps(root)


def test_start_writes_the_spec_from_the_form_and_launches(root, monkeypatch):
    started = []
    monkeypatch.setattr(sweep_launch.subprocess, "Popen", lambda cmd, **kw: started.append(cmd))
    at = run(page(SWEEPS))
    at.number_input(key="swp_seeds").set_value(2)
    at.text_input(key="swp_vals_lr_g").set_value("0.0001, 0.0003")
    at.button(key="swp_start").click()
    run(at)
    assert not at.error and any("4 trials" in s.value for s in at.success)
    (sweep,) = list_sweeps(root)
    spec = sweep.spec()
    assert spec.grid == {"lr_g": [0.0001, 0.0003]} and spec.seeds == [0, 1] and spec.base["model"] == "cdcgan_compact"
    assert started and started[0][2:5] == ["ganlib", "sweep", str(sweep.spec_file)] and "--sweep-dir" in started[0]
    sweep.log_file.write_text("Traceback ...\nRuntimeError: no Ray here\n")
    sweep.write_status(state="failed", error="RuntimeError: no Ray here")
    run(at)
    assert any("no Ray here" in e.value for e in at.error) and any("no Ray here" in c.value for c in at.code)


def test_a_finished_sweep_shows_tables_charts_verdict_and_clones_the_best(finished):
    at = run(page(SWEEPS))
    assert any("completed, 6 of 6 trials" in m.value for m in at.markdown)
    assert any("lr_g=0.0001 beats lr_g=0.001 beyond the seed spread" in m.value for m in at.markdown)
    summary = at.dataframe[0].value  # the per-setting table comes first, the trials second
    assert len(at.dataframe[1].value) == 6
    assert list(summary["setting"]) == ["lr_g=0.0001", "lr_g=0.001"] and list(summary["fid_median"]) == [42, 70]
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # parallel coordinates, FID against wall time
    at.button(key="swp_clone").click()
    run(at)
    assert at.title[0].value == "Train" and TRAIN_PREFILL not in at.session_state  # the form took it
    assert at.select_slider(key="cfg_lr_g").value == 1e-4 and at.number_input(key="cfg_seed").value == 0


def test_compare_groups_runs_that_differ_only_by_seed(finished):
    at = page("app_pages/compare_runs.py")
    at.session_state["cmp_runs"] = [t.name for t in finished.trials()]
    run(at)
    assert any("6 of the picked runs differ only by seed and form 2 group(s)" in c.value for c in at.caption)
    # the overlay, then one median-and-IQR chart per picked metric
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys == ["cmp_curves", "cmp_band_d_loss", "cmp_band_g_loss", "cmp_band_fid", "fid_history_0"]


@pytest.mark.slow
def test_launch_runs_a_real_sweep_into_its_folder(root):
    spec = SweepSpec.from_dict({"name": "one", "base": BASE, "seeds": [3], "time_budget": 20, "quality_fid": 1000})
    sweep = sweep_launch.launch(spec, root)
    deadline = time.monotonic() + 150
    while sweep.status().get("state") in ("starting", "running") and time.monotonic() < deadline:
        time.sleep(1)
    assert sweep.status()["state"] == "completed", sweep.log_file.read_text()[-2000:]
    while sweep_launch.alive(sweep) and time.monotonic() < deadline + 20:  # it exits just after its last write
        time.sleep(0.2)
    assert not sweep_launch.alive(sweep)
    assert [t.config().seed for t in sweep.trials()] == [3] and sweep.results_file.is_file()

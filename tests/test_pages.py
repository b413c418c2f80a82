"""The dashboard pages, driven through streamlit.testing.v1.AppTest against real tiny runs.

Every test points GANLIB_RUNS_DIR at a temporary folder (the UI reads it at call time), so
nothing is written to the repository's checkpoints/. Runs are trained for real on 256 MNIST
digits, 64 per batch, on the CPU: a few seconds each.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ganlib.engine.training import train  # noqa: E402
from ganlib.store.config import (  # noqa: E402
    TrainConfig,
    field_specs,
    relevant_fields,  # noqa: E402
)
from ganlib.store.run_folder import Run  # noqa: E402
from ganlib.store.run_health import run_verdict  # noqa: E402
from ganlib.ui import core, health_view  # noqa: E402
from tests.helpers import page, run

TINY = dict(max_images=256, batch_size=64, device="cpu")
PAGES = ["app.py", "pages/1_Train.py", "pages/2_Samples.py", "pages/3_Generate.py", "pages/4_Latent_walk.py",
         "pages/5_Evaluate.py"]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def job_state(at: AppTest) -> str | None:
    m = re.search(r"State: \*\*(\w+)\*\*", texts(at.markdown))
    return m.group(1) if m else None


def wait_for(at: AppTest, pred, what: str, timeout: float = 90) -> AppTest:
    """Rerun the page (as the live fragment would) until `pred(at)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run(at)
        if pred(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; job state {job_state(at)}, "
                                 f"errors {texts(at.error)!r}")
        time.sleep(0.3)


def set_tiny_config(at: AppTest, **over) -> AppTest:
    values = {"max_images": 256, "batch_size": 64, "epochs": 2, **over}
    for name, v in values.items():
        at.number_input(key=f"cfg_{name}").set_value(v)
    at.selectbox(key="cfg_device").set_value("cpu")
    return run(at)


def watch(at: AppTest, run_name: str) -> AppTest:
    """Open the Train page's live view on a run of the runs folder."""
    at.segmented_control(key="train_mode").set_value("Live view")
    run(at)
    at.selectbox(key="train_watch").set_value(run_name)
    return run(at)


def boxes(at: AppTest) -> dict[str, list[str]]:
    """The page's coloured boxes by level (the health verdict is one of them)."""
    return {"success": [b.value for b in at.success], "info": [b.value for b in at.info],
            "warning": [b.value for b in at.warning], "error": [b.value for b in at.error]}


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def chart(at: AppTest, title_start: str) -> dict:
    (spec,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith(title_start)]
    return spec


def widget_keys(at: AppTest) -> set[str]:
    lists = [at.selectbox, at.slider, at.select_slider, at.number_input, at.checkbox, at.text_input]
    return {w.key for lst in lists for w in lst if w.key}


@pytest.fixture
def empty_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished mlp_gan run, a finished cgan run and a run with no checkpoint yet."""
    root = tmp_path_factory.mktemp("runs")
    mlp = train(TrainConfig(model="mlp_gan", epochs=2, **TINY), runs_dir=root).run
    cgan = train(TrainConfig(model="cgan", epochs=2, **TINY), runs_dir=root).run
    fresh = root / "00002-mlp_gan-mnist5k"
    fresh.mkdir()
    shutil.copy(mlp.path / "config.json", fresh / "config.json")
    return SimpleNamespace(root=root, mlp=mlp.name, cgan=cgan.name, fresh=fresh.name)


@pytest.fixture
def runs(trained, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(trained.root))
    return trained


@pytest.fixture
def stop_jobs(tmp_path):
    """Stop any job a Train test left running, so that it cannot slow the next tests."""
    yield
    jm = core.job_manager_for(str(tmp_path))
    for snap in jm.jobs():
        if snap["active"]:
            jm.stop(snap["id"])
            jm.wait(snap["id"], timeout=30)


# ---- rules ---------------------------------------------------------------------------------


# ---- Home ----------------------------------------------------------------------------------
def test_home_without_runs_points_to_train_and_shows_device(empty_dir):
    at = run(page("app.py"))
    assert at.title[0].value == "GAN Workbench"
    assert any("Train" in i.value for i in at.info)
    dev = core.device_info()["device"]
    assert f"**Device in use:** `{dev}`" in texts(at.markdown)
    assert not at.dataframe


def test_home_lists_runs_with_status_and_last_losses(runs):
    at = run(page("app.py"))
    df = at.dataframe[0].value.set_index("run")
    assert {runs.mlp, runs.cgan, runs.fresh} <= set(df.index)
    assert df.loc[runs.cgan, "status"] == "completed"
    assert df.loc[runs.cgan, "model"] == "cgan" and df.loc[runs.mlp, "model"] == "mlp_gan"
    assert df.loc[runs.mlp, "epoch"] == 2 and df.loc[runs.mlp, "epochs"] == 2
    assert df.loc[runs.mlp, "d_loss"] > 0 and df.loc[runs.mlp, "g_loss"] > 0
    assert df.loc[runs.fresh, "checkpoints"] == 0
    assert df.loc[runs.fresh, "health"] == "too early"  # no epoch yet
    assert df.loc[runs.mlp, "health"] == run_verdict(Run(runs.root / runs.mlp)).label


def test_home_lists_an_unreadable_run_with_question_marks(runs, tmp_path, monkeypatch):
    shutil.copytree(runs.root / runs.mlp, tmp_path / runs.mlp)
    broken = tmp_path / "00009-mlp_gan-mnist5k"
    broken.mkdir()
    shutil.copy(runs.root / runs.mlp / "config.json", broken / "config.json")
    (broken / "metrics.csv").mkdir()  # not a file: reading it fails
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    df = run(page("app.py")).dataframe[0].value.set_index("run")
    assert df.loc[broken.name, "health"] == "?" and df.loc[broken.name, "status"] == "?"
    assert df.loc[runs.mlp, "status"] == "completed"


def test_home_switches_to_pages(empty_dir):
    at = run(page("app.py"))
    at.switch_page("pages/1_Train.py")
    assert run(at).title[0].value == "Train"


# ---- Train ---------------------------------------------------------------------------------
def test_train_has_a_widget_for_every_config_field(empty_dir):
    at = run(page("pages/1_Train.py"))
    at.selectbox(key="cfg_dataset").set_value("folder")  # data_path shows for folder datasets
    run(at)
    keys = widget_keys(at)
    shown = relevant_fields({**TrainConfig().to_dict(), "dataset": "folder"})
    assert {f"cfg_{n}" for n in shown} <= keys
    assert not {f"cfg_{n}" for n in {f.name for f in field_specs()} - shown} & keys  # only what matters
    assert at.select_slider(key="cfg_lr_g").value == pytest.approx(2e-3)  # the recommended recipe
    assert "cfg_dropout" not in keys  # the default model has no dropout
    at.selectbox(key="cfg_model").set_value("cgan")
    run(at)
    assert at.checkbox(key="cfg_dropout_default").value is True
    assert at.slider(key="cfg_dropout").disabled


def test_train_offers_only_the_sliders_of_the_chosen_model_and_loss(empty_dir):
    at = run(page("pages/1_Train.py"))
    assert "cfg_clip_value" not in widget_keys(at)
    at.selectbox(key="cfg_loss").set_value("wgan")
    run(at)
    assert "cfg_clip_value" in widget_keys(at) and "cfg_label_smoothing" not in widget_keys(at)
    at.selectbox(key="cfg_model").set_value("vae")
    run(at)
    keys = widget_keys(at)
    assert not {"cfg_loss", "cfg_lr_d", "cfg_n_critic", "cfg_spectral_norm"} & keys and "cfg_variant" in keys
    at.selectbox(key="cfg_model").set_value("dcgan")
    run(at)
    at.selectbox(key="cfg_d_norm").set_value("batch")
    at.selectbox(key="cfg_loss").set_value("wgan_gp")
    run(at)
    assert any("BatchNorm" in e.value for e in at.error) and at.button(key="start").disabled


def test_train_hides_data_path_for_mnist5k(empty_dir):
    at = run(page("pages/1_Train.py"))
    assert "cfg_data_path" not in widget_keys(at)


def test_train_preset_fills_the_form_and_edits_stick(empty_dir):
    at = run(page("pages/1_Train.py"))
    assert at.selectbox(key="train_preset").value == "recommended"
    at.selectbox(key="train_preset").set_value("seed004")
    run(at)
    assert at.selectbox(key="cfg_model").value == "cgan"
    assert at.number_input(key="cfg_batch_size").value == 64 and at.number_input(key="cfg_epochs").value == 150
    assert at.select_slider(key="cfg_lr_d").value == pytest.approx(2e-4)
    assert at.checkbox(key="cfg_dropout_default").value is True  # the model's own 0.2
    assert any("Seed 004" in c.value for c in at.caption) and not at.button(key="start").disabled
    at.number_input(key="cfg_batch_size").set_value(32)  # every field stays editable
    run(at)
    run(at)  # and the edit survives later reruns
    assert at.number_input(key="cfg_batch_size").value == 32 and at.selectbox(key="cfg_model").value == "cgan"
    assert any("**seed004**, edited: batch_size 64 → 32" in c.value for c in at.caption)
    at.selectbox(key="train_preset").set_value("wgan-gp")  # another preset refills every widget
    run(at)
    assert at.selectbox(key="cfg_loss").value == "wgan_gp" and at.selectbox(key="cfg_d_norm").value == "layer"
    assert at.slider(key="cfg_n_critic").value == 5 and at.number_input(key="cfg_batch_size").value == 64
    assert not at.error and not at.button(key="start").disabled


def test_train_dropout_shows_the_chosen_models_default(empty_dir):
    at = run(page("pages/1_Train.py"))
    for model, p in (("cgan", 0.2), ("mlp_gan", 0.3), ("cgan", 0.2)):
        at.selectbox(key="cfg_model").set_value(model)
        run(at)
        box = at.checkbox(key="cfg_dropout_default")
        assert box.value is True and box.label.endswith(f"use the model's default ({p:g})")
        assert at.slider(key="cfg_dropout").disabled and at.slider(key="cfg_dropout").value == pytest.approx(p)
    assert not at.warning


def test_train_bad_value_names_the_field_and_does_not_start(empty_dir, image_folder):
    at = run(page("pages/1_Train.py"))
    at.selectbox(key="cfg_dataset").set_value("folder")  # folder without a path
    run(at)
    assert any("data_path" in e.value for e in at.error)
    assert at.button(key="start").disabled
    (empty_dir / "nothing").mkdir()
    at.text_input(key="cfg_data_path").input(str(empty_dir / "nothing"))  # no images: said before Start
    run(at)
    assert any("**dataset**" in e.value and "no readable images" in e.value for e in at.error)
    assert at.button(key="start").disabled
    at.text_input(key="cfg_data_path").input(str(image_folder))  # 9 images in two classes
    run(at)
    assert any("batch of 64 is larger than the 9 images" in e.value for e in at.error)
    at.number_input(key="cfg_batch_size").set_value(8)
    run(at)
    assert not at.error and not at.button(key="start").disabled


def test_train_runs_a_job_to_completion_with_charts_and_grid(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = set_tiny_config(run(page("pages/1_Train.py")))
    at.button(key="start").click()
    run(at)
    assert at.segmented_control(key="train_mode").value == "Live view"  # Start opens the live view
    assert job_state(at) in ("queued", "running", "completed")
    wait_for(at, lambda a: job_state(a) == "completed", "the job to complete")
    assert any("completed: 2 epochs" in s.value for s in at.success)
    # losses, D outputs and, since a run evaluates at its last epoch, FID and KID (256 images: N=256)
    assert chart_titles(at) == ["Losses", "Discriminator outputs", "FID (digits, N=256)", "KID ×10³ (digits, N=256)",
                                "Per class (epoch 2, digits, N=256)"]  # the default model is conditional
    assert len(at.image) == 1 and at.image[0].value[0].endswith(".png")
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]  # written where we pointed it
    assert (run_dir / "ckpt" / "epoch_0002.pt").is_file()


@pytest.mark.slow
def test_train_pause_resume_stop_and_busy_warning(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = set_tiny_config(run(page("pages/1_Train.py")), epochs=2000)
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "running" and a.get("progress"), "the job to run")
    assert "ETA" in at.get("progress")[0].proto.text

    other_tab = run(page("pages/1_Train.py"))  # a second browser tab opens on the job's live view
    assert other_tab.segmented_control(key="train_mode").value == "Live view" and job_state(other_tab) == "running"
    other_tab.segmented_control(key="train_mode").set_value("New run")
    set_tiny_config(run(other_tab))
    assert other_tab.button(key="start").disabled  # one job at a time, and the page says so
    assert any("One job runs at a time" in i.value for i in other_tab.info)

    at.button(key="pause").click()
    run(at)
    assert job_state(at) in ("pausing", "paused")
    wait_for(at, lambda a: job_state(a) == "paused", "the job to park at a step boundary", timeout=30)
    assert at.get("progress") and at.button(key="pause").disabled and not at.button(key="unpause").disabled
    jm = core.job_manager_for(str(tmp_path))
    assert jm.current()["state"] == "paused"
    at.button(key="unpause").click()
    run(at)
    assert job_state(at) == "running"
    at.button(key="stop").click()
    wait_for(at, lambda a: job_state(a) == "stopped", "the job to stop", timeout=30)
    assert any("stopped after epoch" in i.value for i in at.info)
    assert not at.get("progress")


def test_train_live_edit_applies_at_the_next_epoch(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = set_tiny_config(run(page("pages/1_Train.py")), epochs=2000)
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "running" and a.get("progress"), "the job to run")
    at.number_input(key="edit_lr_g").set_value(1e-3)
    at.button(key="edit_apply").click()
    run(at)
    assert not at.error
    jm = core.job_manager_for(str(tmp_path))
    snap = jm.current()
    end = time.time() + 60
    while time.time() < end and not Run(Path(snap["run"])).edits():
        time.sleep(0.2)
    edit = Run(Path(snap["run"])).edits()[0]
    assert edit["source"] == "live" and edit["changes"]["lr_g"][1] == 1e-3
    assert Run(Path(snap["run"])).config().lr_g == 1e-3

    # While it trains, Start is disabled and says why; "Watch it" leads back to the live view.
    at.segmented_control(key="train_mode").set_value("New run")
    run(at)
    start = at.button(key="start")
    assert start.disabled and "One job runs at a time" in start.help
    assert any(f"Job {snap['id']} is training" in i.value and "One job runs at a time" in i.value for i in at.info)
    at.button(key="goto_live").click()
    run(at)
    assert at.segmented_control(key="train_mode").value == "Live view" and job_state(at) == "running"


def test_train_refuses_a_batch_larger_than_the_data_before_start(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = set_tiny_config(run(page("pages/1_Train.py")), batch_size=512)  # more than the 256 images
    assert at.button(key="start").disabled
    assert any("batch_size" in e.value and "larger than the 256 images" in e.value for e in at.error)
    assert not list(tmp_path.iterdir())
    at.number_input(key="cfg_max_images").set_value(1000)
    run(at)
    assert not at.error and not at.button(key="start").disabled


def test_train_failed_job_shows_error_and_traceback(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(core, "check_data", lambda cfg: None)  # let the engine's own check fail the job
    at = set_tiny_config(run(page("pages/1_Train.py")), batch_size=512)  # more than the 256 images
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "failed", "the job to fail")
    assert any("batch_size" in e.value and "failed" in e.value for e in at.error)
    assert at.expander[0].label == "Traceback"
    assert "Traceback" in at.code[0].value


def test_train_resumes_a_run_with_more_epochs(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    first = train(TrainConfig(model="mlp_gan", epochs=1, **TINY), runs_dir=tmp_path).run
    at = run(page("pages/1_Train.py"))
    at.segmented_control(key="train_mode").set_value("Resume a run")
    run(at)
    assert at.selectbox(key="resume_run").value == first.name
    epochs = at.number_input(key=f"resume_epochs_{first.name}")
    assert epochs.value > 1  # a completed run is offered more epochs
    epochs.set_value(1)
    run(at)
    assert any("raise the epochs" in w.value for w in at.warning) and at.button(key="resume").disabled
    at.number_input(key=f"resume_epochs_{first.name}").set_value(2)
    at.selectbox(key=f"resume_device_{first.name}").set_value("cpu")
    run(at)
    at.button(key="resume").click()
    wait_for(at, lambda a: job_state(a) == "completed", "the resumed job to complete")
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [first.name]  # same run, no new one
    assert [e for e, _ in first.checkpoints()] == [1, 2]
    assert first.config().epochs == 2


def test_train_forks_a_checkpoint_with_an_edit_and_overlays_the_parent(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    parent = train(TrainConfig(model="mlp_gan", loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, epochs=3,
                               checkpoint_every=1, eval_every=0, **TINY), runs_dir=tmp_path).run
    at = run(page("pages/1_Train.py"))
    at.segmented_control(key="train_mode").set_value("Fork a run")
    run(at)
    assert at.selectbox(key=f"fork_ckpt_{parent.name}").value == "epoch_0003.pt"  # the latest by default
    at.selectbox(key=f"fork_ckpt_{parent.name}").set_value("epoch_0001.pt")
    run(at)
    prefix = f"fork_{parent.name}_epoch_0001"
    keys = widget_keys(at)
    assert f"{prefix}_lr_d" in keys and f"{prefix}_model" not in keys and f"{prefix}_latent_dim" not in keys
    at.select_slider(key=f"{prefix}_lr_d").set_value(1e-4)
    run(at)
    assert any("lr_d 0.0002 → 0.0001" in m.value for m in at.markdown)
    at.button(key="fork_start").click()
    wait_for(at, lambda a: job_state(a) == "completed", "the fork to train")
    child = next(Run(p) for p in tmp_path.iterdir() if p.is_dir() and p.name != parent.name)
    assert child.fork_info()["epoch"] == 1 and [e for e, _ in child.checkpoints()][-1] == 3
    assert child.config().lr_d == 1e-4 and [r["epoch"] for r in child.metrics()] == [1, 2, 3]
    assert child.metrics()[0] == parent.metrics()[0]  # the parent's epoch 1, carried over
    losses = chart(at, "Losses")
    assert [t["name"] for t in losses["data"]][-2:] == [f"D loss, parent {parent.name}",
                                                        f"G loss, parent {parent.name}"]
    assert [a["text"] for a in losses["layout"]["annotations"]] == ["fork: lr_d"]
    assert any(f"Forked from `{parent.name}` at epoch 1" in c.value for c in at.caption)


def test_train_fork_while_a_job_trains_is_created_for_later(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    parent = train(TrainConfig(model="mlp_gan", epochs=1, eval_every=0, **TINY), runs_dir=tmp_path).run
    jm = core.job_manager_for(str(tmp_path))
    job = jm.start(TrainConfig(model="mlp_gan", epochs=2000, eval_every=0, **TINY))
    at = run(page("pages/1_Train.py"))
    at.segmented_control(key="train_mode").set_value("Fork a run")
    run(at)
    at.selectbox(key="fork_run").set_value(parent.name)
    run(at)
    button = at.button(key="fork_start")
    assert button.label == "Create the fork"  # one job at a time: it cannot train now
    button.click()
    run(at)
    assert any("forked from" in s.value for s in at.success)
    (child,) = [Run(p) for p in tmp_path.iterdir() if p.is_dir() and Run(p).fork_info()]
    assert child.fork_info()["parent"] == parent.name and child.status()["state"] == "stopped"
    assert jm.current()["id"] == job and jm.current()["active"]  # the running job is untouched


def test_train_clicked_epoch_opens_its_grid_and_nearest_training_images(runs):
    at = watch(run(page("pages/1_Train.py")), runs.mlp)
    assert any("Click a point on a curve" in c.value for c in at.caption)
    at.session_state["_picked_epoch"] = {"run": runs.mlp, "epoch": 1.0}  # what a click on epoch 1 stores
    run(at)
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert "Samples after epoch 1 (fixed noise)" in captions
    assert any(c.startswith("Nearest training image of each sample") for c in captions)
    assert any("Median distance to the nearest training image" in c.value for c in at.caption)
    at.button(key="close_picked").click()
    run(at)
    assert "_picked_epoch" not in at.session_state


# ---- Samples -------------------------------------------------------------------------------
def test_samples_shows_a_grid_per_epoch_with_download(runs):
    at = run(page("pages/2_Samples.py"))
    at.selectbox(key="samples_run").set_value(runs.cgan)
    run(at)
    slider = at.select_slider(key=f"samples_epoch_{runs.cgan}")
    assert list(slider.options) == ["0", "1", "2"] and slider.value == 2
    slider.set_value(1)
    run(at)
    assert len(at.image) == 1 and at.image[0].value[0].endswith(".png")
    assert f"{runs.cgan}, epoch 1" in at.image[0].proto.imgs[0].caption
    assert at.download_button(key="download_png").label == "Download PNG"
    assert at.get("metric")  # the epoch's losses
    at.toggle(key="samples_neighbours").set_value(True)
    run(at)
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert "Samples after epoch 1 (fixed noise)" in captions  # the cgan grid: 10 rows, one per class
    assert any(c.startswith("Nearest training image of each sample") for c in captions)


def test_samples_play_steps_through_epochs_then_stops(runs):
    at = run(page("pages/2_Samples.py"))
    at.selectbox(key="samples_run").set_value(runs.mlp)
    run(at)
    key = f"samples_epoch_{runs.mlp}"
    at.button(key="play").click()
    run(at)
    assert at.session_state["_samples_playing"] == runs.mlp
    assert at.select_slider(key=key).value == 0  # from the start when it was at the end
    seen = [0]
    for _ in range(4):
        run(at)
        seen.append(at.select_slider(key=key).value)
    assert seen[:3] == [0, 1, 2]
    assert at.session_state["_samples_playing"] is None  # stopped at the last grid
    at.button(key="play").click()
    run(at)
    at.button(key="stop_play").click()
    run(at)
    assert at.session_state["_samples_playing"] is None


# ---- Generate ------------------------------------------------------------------------------
def test_generate_unconditional_is_reproducible_and_downloadable(runs):
    at = run(page("pages/3_Generate.py"))
    at.selectbox(key="gen_run").set_value(runs.mlp)
    run(at)
    assert not at.radio  # no label choice for an unconditional model
    first = at.image[0].value
    at.slider(key="gen_n").set_value(16)
    run(at)
    assert "16 samples" in at.image[0].proto.imgs[0].caption
    assert {d.label for d in at.download_button} == {"Download PNG", "Download NPZ"}
    sixteen = at.image[0].value
    at.number_input(key="gen_seed").set_value(5)
    run(at)
    assert at.image[0].value != sixteen
    at.number_input(key="gen_seed").set_value(0)
    run(at)
    assert at.image[0].value == sixteen and first != sixteen  # same seed, same images
    at.checkbox(key="gen_random").check()
    run(at)
    assert re.search(r"Seed: `\d+`", texts(at.markdown))


def test_generate_conditional_one_label_or_one_per_row(runs):
    at = run(page("pages/3_Generate.py"))
    at.selectbox(key="gen_run").set_value(runs.cgan)
    run(at)
    assert at.radio(key="gen_label_mode").value == "One label for all"
    at.selectbox(key="gen_label").set_value(3)
    run(at)
    assert len(at.image) == 1
    at.radio(key="gen_label_mode").set_value("One label per row")
    run(at)
    at.multiselect(key="gen_row_labels").set_value([2, 5])
    at.slider(key="gen_per_row").set_value(4)
    run(at)
    assert "8 samples" in at.image[0].proto.imgs[0].caption
    at.multiselect(key="gen_row_labels").set_value([])
    run(at)
    assert at.warning and not at.image


def test_generate_run_without_checkpoint_shows_error(runs):
    at = run(page("pages/3_Generate.py"))
    at.selectbox(key="gen_run").set_value(runs.fresh)
    run(at)
    assert any("no checkpoint" in e.value for e in at.error)
    assert not at.image


# ---- Latent walk ---------------------------------------------------------------------------
def test_latent_walk_conditional_strip_and_gif(runs):
    at = run(page("pages/4_Latent_walk.py"))
    at.selectbox(key="walk_run").set_value(runs.cgan)
    run(at)
    at.selectbox(key="walk_label_a").set_value(3)
    at.selectbox(key="walk_label_b").set_value(8)
    at.slider(key="walk_steps").set_value(6)
    at.radio(key="walk_mode").set_value("linear")
    run(at)
    strip, gif = at.image
    assert strip.value[0].endswith(".png") and gif.value[0].endswith(".gif")
    assert "label 3 → 8, 6 steps, linear" in strip.proto.imgs[0].caption
    assert at.download_button(key="walk_gif").label == "Download GIF"


def test_latent_walk_unconditional_has_no_labels(runs):
    at = run(page("pages/4_Latent_walk.py"))
    at.selectbox(key="walk_run").set_value(runs.mlp)
    run(at)
    assert not [s for s in at.selectbox if s.key and s.key.startswith("walk_label")]
    assert len(at.image) == 2


def test_latent_walk_run_without_checkpoint_shows_error(runs):
    at = run(page("pages/4_Latent_walk.py"))
    at.selectbox(key="walk_run").set_value(runs.fresh)
    run(at)
    assert any("no checkpoint" in e.value for e in at.error)


# ---- no runs yet ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", PAGES[2:])
def test_pages_without_runs_point_to_train(empty_dir, path):
    at = run(page(path))
    assert any("Train" in i.value for i in at.info)
    assert not at.error and not at.image


# ---- evaluation: Train page metrics, Evaluate page -------------------------------------------
# A hand-written history in which the classifier finds fewer classes at the last evaluation
# than before (seed 002/004's mode-collapse sign), evaluated at N=500, unlike the real run.
COLLAPSE_CSV = """\
epoch,d_loss,g_loss,d_real,d_fake,fid,fid_std,kid,kid_std,precision,recall,classes_covered,class_kl,label_acc,eval_n,extractor
1,1.2,0.8,0.6,0.4,90.0,2.0,0.05,0.01,0.30,0.40,10,0.10,0.8,500,digits
2,1.1,0.9,0.6,0.4,,,,,,,,,,,
3,1.0,1.0,0.6,0.4,70.0,1.5,0.04,0.01,0.45,0.35,10,0.12,0.8,500,digits
4,0.9,1.1,0.6,0.4,75.0,1.5,0.04,0.01,0.60,0.20,6,0.90,0.5,500,digits
"""
# Collapsed from the start: the classifier finds one class at every evaluation, so nothing drops.
COLLAPSED_CSV = """\
epoch,d_loss,g_loss,d_real,d_fake,fid,fid_std,kid,kid_std,precision,recall,classes_covered,class_kl,label_acc,eval_n,extractor
1,1.2,0.8,0.6,0.4,900.0,2.0,0.05,0.01,0.30,0.00,1,2.30,0.1,500,digits
2,1.1,0.9,0.6,0.4,880.0,2.0,0.05,0.01,0.31,0.00,1,2.30,0.1,500,digits
"""
EARLY_STOP_NOTE = "Early stop at epoch 4: FID has not improved for 1 evaluations (best 70.00)."
# The untrained generator's evaluation, as the engine records it at the start of a run with live
# evaluation: the ceiling of the FID and KID charts.
UNTRAINED = {"epoch": 0, "untrained": True, "fid": 321.5, "fid_std": 2.0, "kid": 7.25, "kid_std": 0.1,
             "eval_n": 256, "extractor": "digits"}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A conditional run evaluated every epoch (N=256), and a copy of it whose metrics.csv is a
    hand-written collapsing history at N=500, with an early-stop note and Inception asked for
    with a weights file that does not exist (the offline case)."""
    root = tmp_path_factory.mktemp("eval_runs")
    res = train(TrainConfig(model="cgan", epochs=2, eval_every=1, eval_samples=256, **TINY), runs_dir=root)
    assert res.state == "completed", res.error
    real = res.run
    real.write_evals([UNTRAINED] + real.evals())  # the engine's epoch-0 record, built by hand
    fake = root / "00001-cgan-mnist5k"
    shutil.copytree(real.path, fake)
    (fake / "metrics.csv").write_text(COLLAPSE_CSV)
    st = json.loads((fake / "status.json").read_text())
    (fake / "status.json").write_text(json.dumps({**st, "epoch": 4, "epochs": 4, "notes": [EARLY_STOP_NOTE]}))
    cfg = json.loads((fake / "config.json").read_text())
    cfg.update(epochs=4, extractor="inception", inception_weights=str(root / "missing" / "pt_inception.pth"))
    (fake / "config.json").write_text(json.dumps(cfg))
    collapsed = root / "00002-cgan-mnist5k"
    shutil.copytree(real.path, collapsed)
    (collapsed / "metrics.csv").write_text(COLLAPSED_CSV)
    return SimpleNamespace(root=root, run=real, collapse=fake.name, collapsed=collapsed.name)


@pytest.fixture
def eval_runs(evaluated, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(evaluated.root))
    return evaluated


def test_train_shows_fid_kid_tiles_best_and_per_class_for_an_evaluated_run(eval_runs):
    run_ = eval_runs.run
    rows = run_.metrics()
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["fid"] is not None for r in rows)
    at = watch(run(page("pages/1_Train.py")), run_.name)
    titles = chart_titles(at)
    assert titles[:2] == ["Losses", "Discriminator outputs"]
    assert "FID (digits, N=256)" in titles and "KID ×10³ (digits, N=256)" in titles
    fid = chart(at, "FID (")
    names = [t["name"] for t in fid["data"]]
    last = rows[-1]
    assert names == ["± 2 std", "raw", "EMA 0.6", f"real vs real (floor): {last['fid_floor']:.2f}",
                     "untrained G (ceiling): 321.50"]
    band, raw, smooth, floor, ceiling = fid["data"]
    assert 0 <= last["fid_floor"] < min(r["fid"] for r in rows) and floor["y"] == [last["fid_floor"]] * 2
    assert ceiling["x"] == [0, 1, 2] and ceiling["y"] == [321.5] * 3  # from epoch 0, the untrained record
    assert floor["mode"] == ceiling["mode"] == "lines+markers"  # clickable: invisible markers
    assert raw["y"] == pytest.approx([r["fid"] for r in rows])
    upper = [r["fid"] + 2 * r["fid_std"] for r in rows]
    assert band["y"][:2] == pytest.approx(upper)
    a, b = (r["fid"] for r in rows)  # bias-corrected EMA: first point raw, then weighted
    assert smooth["y"] == pytest.approx([a, (0.6 * 0.4 * a + 0.4 * b) / (1 - 0.36)])
    kid = chart(at, "KID ×10³ (")
    assert kid["layout"]["yaxis"]["title"]["text"] == "KID ×10³ (lower is better)"
    assert kid["data"][0]["y"] == pytest.approx([1e3 * r["kid"] for r in rows])
    assert kid["data"][0]["error_y"]["array"] == pytest.approx([1e3 * r["kid_std"] for r in rows])
    assert [t["name"] for t in kid["data"][1:]] == [f"real vs real (floor): {1e3 * last['kid_floor']:.2f}",
                                                    "untrained G (ceiling): 7250.00"]

    tiles = {m.label: m.value for m in at.metric}
    helps = {m.label: m.proto.help for m in at.metric}
    assert tiles["Precision"] == f"{last['precision']:.3f}" and tiles["Recall"] == f"{last['recall']:.3f}"
    assert tiles["Classes covered"] == f"{last['classes_covered']:.0f} / 10"
    assert tiles["Label accuracy"] == f"{last['label_acc']:.1%}"  # conditional: asked-for label recognised
    # A tile's value is only its number, so a narrow column never cuts it ("1.00 ± …"); ± is in the help.
    assert tiles["IS"] == f"{last['is_mean']:.2f}" and "Class KL" in tiles
    assert helps["IS"].startswith(f"**IS {last['is_mean']:.2f} ± {last['is_std']:.2f}**")
    assert all(len(v) <= 8 and "±" not in v and "…" not in v for v in tiles.values()), tiles
    assert any("Epoch 2 evaluation · digits, N=256" in c.value for c in at.caption)
    best = min(rows, key=lambda r: r["fid"])
    md = texts(at.markdown)
    assert f"**Best FID so far:** {best['fid']:.2f} at epoch {int(best['epoch'])} (digits, N=256)" in md
    assert "`ckpt/best.pt` holds this generator" in md and run_.best_checkpoint_path().is_file()
    per_class = chart(at, "Per class")
    fid_bars, acc_bars = per_class["data"]
    assert fid_bars["y"] == pytest.approx(run_.evals()[-1]["fid_per_class"])
    assert len(acc_bars["y"]) == 10
    v = run_verdict(run_)  # whatever the library says of this run, the page shows, in its colour
    assert health_view.text(v) in boxes(at)[v.level]
    assert not at.warning  # no other alarm


def test_train_shows_collapse_alarm_and_early_stop_note(eval_runs):
    at = watch(run(page("pages/1_Train.py")), eval_runs.collapse)
    (box,) = at.error  # the verdict: mode collapse, in red, with the change to try
    assert box.value.startswith("**Mode collapse starting: classes covered fell from 10 to 6 of 10.**")
    assert "**Try:** Try the recommended preset, or raise the batch size" in box.value
    assert EARLY_STOP_NOTE in [i.value for i in at.info]
    fid = chart(at, "FID (digits, N=500)")
    assert fid["data"][1]["x"] == [1, 3, 4]  # epoch 2 has no evaluation: skipped, not drawn as 0
    assert not any("ceiling" in t["name"] for t in fid["data"])  # the untrained record is at N=256, not 500
    assert "**Best FID so far:** 70.00 at epoch 3 (digits, N=500)" in texts(at.markdown)


def test_train_and_home_call_a_run_collapsed_from_its_first_evaluation(eval_runs):
    at = watch(run(page("pages/1_Train.py")), eval_runs.collapsed)
    (box,) = at.error
    assert box.value.startswith("**Mode collapse: 1 of 10 classes.**") and "recall 0.00" in box.value
    home = run(page("app.py")).dataframe[0].value.set_index("run")
    assert home.loc[eval_runs.collapsed, "health"] == "collapse 1/10"
    assert home.loc[eval_runs.run.name, "health"] == run_verdict(eval_runs.run).label


def test_evaluate_computes_table_histogram_and_nearest_training_images(eval_runs):
    run_ = eval_runs.run
    at = run(page("pages/5_Evaluate.py"))
    at.selectbox(key="eval_run").set_value(run_.name)
    run(at)
    ck = at.selectbox(key=f"eval_ckpt_{run_.name}")
    assert ck.options[0].startswith("best.pt") and ck.value == "best.pt"
    assert at.slider(key="eval_n_256").value == 256  # min(10,000, data size)
    at.button(key="eval_compute").click()
    run(at)
    assert not at.error
    table = at.dataframe[0].value.set_index("metric")
    assert list(table.columns) == ["value", "± std", "extractor", "N"]
    assert set(table["extractor"]) == {"digits"} and set(table["N"]) == {256}
    # best.pt evaluated again with the same seed and N gives the FID it was kept for
    best = min((e for e in run_.evals() if not e.get("untrained")), key=lambda e: e["fid"])
    assert table.loc["FID", "value"] == pytest.approx(best["fid"], rel=1e-6)
    assert table.loc["FID", "± std"] > 0 and 0 <= table.loc["Label accuracy", "value"] <= 1
    assert {"KID ×10³", "IS", "Precision", "Recall", "Classes covered", "Class KL", "FID floor (real vs real)",
            "KID ×10³ floor (real vs real)"} <= set(table.index)
    assert 0 <= table.loc["FID floor (real vs real)", "value"] < table.loc["FID", "value"]

    hist = chart(at, "Real against generated classes (digits, N=256)")
    real, gen = hist["data"]
    assert real["name"] == "real" and sum(real["y"]) == pytest.approx(1.0) and sum(gen["y"]) == pytest.approx(1.0)
    assert chart(at, "Per class")  # conditional model: FID and label accuracy per class

    pairs = [im for im in at.image if "train #" in im.proto.imgs[0].caption]
    assert len(pairs) == 8
    dists = [float(re.search(r"d = ([\d.]+)", im.proto.imgs[0].caption).group(1)) for im in pairs]
    assert dists == sorted(dists) and all(d > 0 for d in dists)  # a 2-epoch GAN copies nothing exactly
    labels = {m.label for m in at.metric}
    assert {"Median distance, generated → training", "Generated closer than 95 % of real"} <= labels
    history = chart(at, "FID (digits, N=256)")["data"]
    assert history[1]["name"] == run_.name  # its FID history, its ceiling and the floor
    assert [t["name"] for t in history[2:]] == [f"{run_.name} untrained G (ceiling): 321.50",
                                                f"real vs real (floor): {run_.metrics()[-1]['fid_floor']:.2f}"]


def test_evaluate_without_inception_weights_falls_back_and_keeps_runs_apart(eval_runs):
    at = run(page("pages/5_Evaluate.py"))
    at.selectbox(key="eval_run").set_value(eval_runs.collapse)
    run(at)
    assert at.selectbox(key=f"eval_extractor_{eval_runs.collapse}").value == "inception"
    msg = texts(at.info)
    assert "Inception weights are not available" in msg and "Using the digit classifier" in msg
    assert any("Uses **digits**" in c.value for c in at.caption)
    at.multiselect(key="eval_compare").set_value([eval_runs.run.name])
    at.button(key="eval_compute").click()
    run(at)
    assert not at.error
    table = at.dataframe[0].value
    assert set(table["run"]) == {eval_runs.collapse, eval_runs.run.name}
    assert set(table["extractor"]) == {"digits"} and set(table["N"]) == {256}
    # the histories differ in N (500 by hand, 256 trained): two charts and a note saying why
    assert {"FID (digits, N=500)", "FID (digits, N=256)"} <= set(chart_titles(at))
    assert any("Not overlaid" in i.value for i in at.info)

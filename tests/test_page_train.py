"""Train: the config form drawn from the field metadata, a job started, watched, paused, edited,
resumed and forked, and an evaluated run's charts and tiles; real tiny runs on the CPU."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ganlib.engine.training import train
from ganlib.store.config import TrainConfig, field_specs, relevant_fields
from ganlib.store.presets import PRESETS
from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict
from ganlib.ui import health_view, resources
from tests.conftest import EARLY_STOP_NOTE
from tests.helpers import (
    TINY,
    boxes,
    chart,
    chart_titles,
    job_state,
    page,
    run,
    set_tiny_config,
    texts,
    wait_for,
    watch,
    widget_keys,
)


def test_train_has_a_widget_for_every_config_field(empty_dir):
    at = run(page("app_pages/train.py"))
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
    at = run(page("app_pages/train.py"))
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
    at = run(page("app_pages/train.py"))
    assert "cfg_data_path" not in widget_keys(at)


def test_train_preset_fills_the_form_and_edits_stick(empty_dir):
    at = run(page("app_pages/train.py"))
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


def test_train_suggests_the_colour_preset_for_colour_data_and_keeps_the_data(empty_dir):
    """Issue 22 item 5: colour data gets the preset measured on colour images (docs/PERF.md)."""
    at = run(page("app_pages/train.py"))
    assert not any("colour32" in i.value for i in at.info)  # digits: the default recipe is theirs
    at.selectbox(key="cfg_dataset").set_value("emoji")
    at.selectbox(key="cfg_channels").set_value(3)
    at.number_input(key="cfg_image_size").set_value(32)
    at.number_input(key="cfg_epochs").set_value(7)
    run(at)
    assert any("the **colour32** preset" in i.value for i in at.info)
    at.button(key="cfg_use_suggested_preset").click()
    run(at)
    assert at.selectbox(key="train_preset").value == "colour32"
    recipe = PRESETS.get("colour32").values
    assert at.select_slider(key="cfg_lr_g").value == pytest.approx(recipe["lr_g"])
    assert at.number_input(key="cfg_batch_size").value == recipe["batch_size"]
    assert at.selectbox(key="cfg_dataset").value == "emoji" and at.selectbox(key="cfg_channels").value == 3
    assert at.number_input(key="cfg_image_size").value == 32  # the data fields stay the form's
    assert not any("colour32** preset" in i.value for i in at.info)
    assert any("Recipe: **colour32**" in c.value for c in at.caption)
    assert not at.error and not at.button(key="start").disabled


def test_train_dropout_shows_the_chosen_models_default(empty_dir):
    at = run(page("app_pages/train.py"))
    for model, p in (("cgan", 0.2), ("mlp_gan", 0.3), ("cgan", 0.2)):
        at.selectbox(key="cfg_model").set_value(model)
        run(at)
        box = at.checkbox(key="cfg_dropout_default")
        assert box.value is True and box.label.endswith(f"use the model's default ({p:g})")
        assert at.slider(key="cfg_dropout").disabled and at.slider(key="cfg_dropout").value == pytest.approx(p)
    assert not at.warning


def test_train_bad_value_names_the_field_and_does_not_start(empty_dir, image_folder):
    at = run(page("app_pages/train.py"))
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
    at = set_tiny_config(run(page("app_pages/train.py")))
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
    at = set_tiny_config(run(page("app_pages/train.py")), epochs=2000)
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "running" and a.get("progress"), "the job to run")
    assert "ETA" in at.get("progress")[0].proto.text

    other_tab = run(page("app_pages/train.py"))  # a second browser tab opens on the job's live view
    assert other_tab.segmented_control(key="train_mode").value == "Live view" and job_state(other_tab) == "running"
    other_tab.segmented_control(key="train_mode").set_value("New run")
    set_tiny_config(run(other_tab))
    assert other_tab.button(key="start").disabled  # one job at a time, and the page says so
    assert any("One task runs at a time" in i.value for i in other_tab.info)

    at.button(key="pause").click()
    run(at)
    assert job_state(at) in ("pausing", "paused")
    wait_for(at, lambda a: job_state(a) == "paused", "the job to park at a step boundary", timeout=30)
    assert at.get("progress") and at.button(key="pause").disabled and not at.button(key="unpause").disabled
    jm = resources.job_manager_for(str(tmp_path))
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
    at = set_tiny_config(run(page("app_pages/train.py")), epochs=2000)
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "running" and a.get("progress"), "the job to run")
    at.number_input(key="edit_lr_g").set_value(1e-3)
    at.button(key="edit_apply").click()
    run(at)
    assert not at.error
    jm = resources.job_manager_for(str(tmp_path))
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
    assert start.disabled and "One task runs at a time" in start.help
    assert any(f"Training job {snap['id']} (" in i.value and "One task runs at a time" in i.value for i in at.info)
    at.button(key="goto_live").click()
    run(at)
    assert at.segmented_control(key="train_mode").value == "Live view" and job_state(at) == "running"


def test_train_refuses_a_batch_larger_than_the_data_before_start(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = set_tiny_config(run(page("app_pages/train.py")), batch_size=512)  # more than the 256 images
    assert at.button(key="start").disabled
    assert any("batch_size" in e.value and "larger than the 256 images" in e.value for e in at.error)
    assert not list(tmp_path.iterdir())
    at.number_input(key="cfg_max_images").set_value(1000)
    run(at)
    assert not at.error and not at.button(key="start").disabled


def test_train_failed_job_shows_error_and_traceback(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    import ganlib.ui.config_form

    monkeypatch.setattr(ganlib.ui.config_form, "check_data", lambda cfg: None)  # the engine's own check fails it
    at = set_tiny_config(run(page("app_pages/train.py")), batch_size=512)  # more than the 256 images
    at.button(key="start").click()
    wait_for(at, lambda a: job_state(a) == "failed", "the job to fail")
    assert any("batch_size" in e.value and "failed" in e.value for e in at.error)
    assert at.expander[0].label == "Traceback"
    assert "Traceback" in at.code[0].value


def test_train_resumes_a_run_with_more_epochs(tmp_path, monkeypatch, stop_jobs):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    first = train(TrainConfig(model="mlp_gan", epochs=1, **TINY), runs_dir=tmp_path).run
    at = run(page("app_pages/train.py"))
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
    at = run(page("app_pages/train.py"))
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
    jm = resources.job_manager_for(str(tmp_path))
    job = jm.start(TrainConfig(model="mlp_gan", epochs=2000, eval_every=0, **TINY))
    at = run(page("app_pages/train.py"))
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
    at = watch(run(page("app_pages/train.py")), runs.mlp.name)
    assert any("Click a point on a curve" in c.value for c in at.caption)
    at.session_state["_picked_epoch"] = {"run": runs.mlp.name, "epoch": 1.0}  # what a click on epoch 1 stores
    run(at)
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert "Samples after epoch 1 (fixed noise)" in captions
    assert any(c.startswith("Nearest training image of each sample") for c in captions)
    assert any("Median distance to the nearest training image" in c.value for c in at.caption)
    at.button(key="close_picked").click()
    run(at)
    assert "_picked_epoch" not in at.session_state


def test_train_shows_fid_kid_tiles_best_and_per_class_for_an_evaluated_run(eval_runs):
    run_ = eval_runs.run
    rows = run_.metrics()
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["fid"] is not None for r in rows)
    at = watch(run(page("app_pages/train.py")), run_.name)
    titles = chart_titles(at)
    assert titles[:2] == ["Losses", "Discriminator outputs"]
    assert "FID (digits, N=256)" in titles and "KID ×10³ (digits, N=256)" in titles
    # D's outputs on the scale the run's loss records them in (the loss registry's d_scale), never clipped
    from ganlib.losses import LOSSES
    scale = LOSSES.get(run_.config().loss).d_scale
    disc = chart(at, "Discriminator outputs")
    assert disc["layout"]["yaxis"]["title"]["text"] == scale.axis
    notes = [a.get("text", "") for a in disc["layout"].get("annotations", [])]
    assert notes == [text for _, text in scale.lines]
    ys = [y for t in disc["data"] for y in t["y"] if y is not None]
    rng = disc["layout"]["yaxis"].get("range")
    assert rng is None or rng[0] <= min(ys) and max(ys) <= rng[1]
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
    floor_name, ceiling_name = (t["name"] for t in kid["data"][1:])
    assert last["kid_floor"] < 0 and ceiling_name == "untrained G (ceiling): 7250.00"
    # a floor below 0 is drawn at 0, its value and noise named beside it
    assert floor_name.startswith(f"real vs real (floor): 0 ({1e3 * last['kid_floor']:.2f}")
    assert kid["data"][1]["y"][0] == 0

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
    at = watch(run(page("app_pages/train.py")), eval_runs.collapse)
    (box,) = at.error  # the verdict: mode collapse, in red, with the change to try
    assert box.value.startswith("**Mode collapse starting: classes covered fell from 10 to 6 of 10.**")
    assert "**Try:** Try the recommended preset. Raise the batch size" in box.value
    assert EARLY_STOP_NOTE in [i.value for i in at.info]
    fid = chart(at, "FID (digits, N=500)")
    assert fid["data"][1]["x"] == [1, 3, 4]  # epoch 2 has no evaluation: skipped, not drawn as 0
    assert not any("ceiling" in t["name"] for t in fid["data"])  # the untrained record is at N=256, not 500
    assert "**Best FID so far:** 70.00 at epoch 3 (digits, N=500)" in texts(at.markdown)



def test_train_form_shows_the_translation_fields_for_pix2pix(empty_dir):
    at = run(page("app_pages/train.py"))
    at.selectbox(key="cfg_model").set_value("pix2pix")
    run(at)
    keys = widget_keys(at)
    assert {"cfg_lambda_l1", "cfg_direction"} <= keys
    assert not {"cfg_latent_dim", "cfg_loss", "cfg_lambda_cycle", "cfg_n_critic"} & keys

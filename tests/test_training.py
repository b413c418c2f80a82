import math
import os

import pandas as pd
import pytest
import torch
from PIL import Image

import ganlib.core.atomic
from ganlib.engine.training import Callbacks, Trainer, train
from ganlib.losses import LOSSES, GANLoss
from ganlib.losses.bce import bce_d_loss, nonsaturating_g_loss
from ganlib.store.checkpoint_format import load_checkpoint, save_checkpoint
from ganlib.store.checkpoints import load_handle
from ganlib.store.run_folder import Run

LOSS_COLS = ["d_loss", "g_loss", "d_real", "d_fake", "grad_norm_g", "grad_norm_d"]


def test_two_epoch_run_writes_everything(tiny_cfg, tmp_path):
    epochs_seen = []
    res = train(tiny_cfg(), runs_dir=tmp_path, callbacks=Callbacks(on_epoch=lambda r: epochs_seen.append(r["epoch"])))
    assert res.state == "completed" and res.epoch == 2 and epochs_seen == [1, 2]
    run = res.run
    df = pd.read_csv(run.path / "metrics.csv")
    assert list(df["epoch"]) == [1, 2]
    assert set(LOSS_COLS + ["images_per_sec"]) <= set(df.columns)
    assert all(math.isfinite(v) for v in df[LOSS_COLS].to_numpy().ravel())
    assert ((df["d_real"] > 0) & (df["d_real"] < 1)).all()
    assert [e for e, _ in run.samples()] == [0, 1, 2]
    assert Image.open(run.sample_path(2)).size == (8 * 30 + 2, 8 * 30 + 2)  # 8x8 grid of 28px + padding
    assert [e for e, _ in run.checkpoints()] == [1, 2]
    assert run.status()["state"] == "completed"
    assert run.config() == tiny_cfg()

    ck = load_checkpoint(run.checkpoint_path(2))
    assert ck["epoch"] == 2 and ck["config"]["model"] == "mlp_gan" and len(ck["metrics"]) == 2
    assert {"G", "D", "opt_g", "opt_d", "rng", "fixed_z"} <= set(ck)
    G = load_handle(run.checkpoint_path(2)).G
    assert G(torch.randn(3, 100)).shape == (3, 1, 28, 28)


def test_epoch_means_not_last_batch(tiny_cfg, tmp_path):
    """The row holds the mean over the epoch's steps, not the last step's value."""
    seen = []

    def recording_d_loss(real, fake, smooth=0.0):
        loss = bce_d_loss(real, fake, smooth)
        seen.append(loss.item())
        return loss

    LOSSES._items["test_recording"] = GANLoss(recording_d_loss, nonsaturating_g_loss, "test", bce=True)
    try:
        res = train(tiny_cfg(epochs=1, loss="test_recording", eval_every=0), runs_dir=tmp_path)
    finally:
        del LOSSES._items["test_recording"]
    assert len(seen) == 8
    assert res.rows[0]["d_loss"] == pytest.approx(sum(seen) / len(seen), rel=1e-5)
    assert res.rows[0]["d_loss"] != pytest.approx(seen[-1], rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlp_gan", "cgan"])
def test_resumed_equals_uninterrupted(tiny_cfg, tmp_path, model):
    full = train(tiny_cfg(model=model, epochs=4, checkpoint_every=10), runs_dir=tmp_path / "a")
    half = train(tiny_cfg(model=model, epochs=2, checkpoint_every=10), runs_dir=tmp_path / "b")
    rest = train(tiny_cfg(model=model, epochs=4, checkpoint_every=10), resume=half.run.path)
    assert rest.run.path == half.run.path and rest.epoch == 4
    assert [r["epoch"] for r in rest.rows] == [1, 2, 3, 4]
    for a, b in zip(full.rows, rest.rows):
        assert [a[k] for k in LOSS_COLS] == [b[k] for k in LOSS_COLS]
    assert len(Run(half.run.path).metrics()) == 4


def test_stop_mid_epoch_keeps_last_good_epoch_and_resumes_exactly(tiny_cfg, tmp_path):
    full = train(tiny_cfg(epochs=3, checkpoint_every=10), runs_dir=tmp_path / "a")
    steps = {"n": 0}

    def stop_in_epoch_two():
        steps["n"] += 1
        return steps["n"] > 8 + 3  # 8 steps per epoch: stop 3 steps into epoch 2

    stopped = train(tiny_cfg(epochs=3, checkpoint_every=10), runs_dir=tmp_path / "b",
                    callbacks=Callbacks(should_stop=stop_in_epoch_two))
    assert stopped.state == "stopped" and stopped.epoch == 1
    assert [e for e, _ in stopped.run.checkpoints()] == [1]  # the snapshot of epoch 1 was written
    assert stopped.run.status()["state"] == "stopped"
    rest = train(tiny_cfg(epochs=3, checkpoint_every=10), resume=stopped.run.path)
    assert [[r[k] for k in LOSS_COLS] for r in rest.rows] == [[r[k] for k in LOSS_COLS] for r in full.rows]


def _nan_after(steps: int) -> GANLoss:
    count = {"n": 0}

    def g_loss(fake):
        count["n"] += 1
        loss = nonsaturating_g_loss(fake)
        return loss * float("nan") if count["n"] > steps else loss

    return GANLoss(bce_d_loss, g_loss, "test: turns NaN")


def test_nan_loss_stops_as_diverged_and_keeps_last_good_checkpoint(tiny_cfg, tmp_path):
    LOSSES._items["test_nan_after_12"] = _nan_after(12)  # epoch 2 of 8-step epochs goes NaN
    try:
        res = train(tiny_cfg(loss="test_nan_after_12", epochs=5, checkpoint_every=10), runs_dir=tmp_path)
    finally:
        del LOSSES._items["test_nan_after_12"]
    assert res.state == "diverged" and res.epoch == 1
    st = res.run.status()
    assert st["state"] == "diverged" and "NaN" in st["error"] and "g_loss" in st["error"]
    assert [e for e, _ in res.run.checkpoints()] == [1]
    ck = load_checkpoint(res.run.checkpoint_path(1))
    assert all(torch.isfinite(t).all() for t in ck["G"].values())
    assert len(res.run.metrics()) == 1  # the NaN epoch is not recorded as a result


def test_crash_records_traceback_and_keeps_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    orig = Trainer.write_grid

    def boom(self):
        if self.epoch == 2:
            raise OSError("disk full (simulated)")
        return orig(self)

    monkeypatch.setattr(Trainer, "write_grid", boom)
    res = train(tiny_cfg(epochs=3, checkpoint_every=10), runs_dir=tmp_path)
    st = res.run.status()
    assert res.state == "failed" and "disk full" in st["error"]
    assert "Traceback" in st["traceback"] and "boom" in st["traceback"]
    assert [e for e, _ in res.run.checkpoints()] == [1]


def test_interrupted_checkpoint_write_leaves_previous_loadable(tiny_cfg, tmp_path, monkeypatch):
    res = train(tiny_cfg(epochs=1), runs_dir=tmp_path)
    path = res.run.checkpoint_path(1)
    before = path.read_bytes()

    def crash_before_rename(src, dst):
        raise KeyboardInterrupt("power cut before the rename")

    monkeypatch.setattr(ganlib.core.atomic.os, "replace", crash_before_rename)
    ck = load_checkpoint(path)
    ck["epoch"] = 99
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, ck)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


def test_hostile_checkpoint_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pt"
    bad.write_bytes(pickle.dumps({"G": Evil(), "config": {}}))
    with pytest.raises(ValueError, match="not a loadable"):
        load_checkpoint(bad)
    assert not (tmp_path / "pwned").exists()


def test_conditional_grid_has_one_class_per_row(tiny_cfg, tmp_path):
    res = train(tiny_cfg(model="cgan", epochs=1), runs_dir=tmp_path)
    ck = load_checkpoint(res.run.checkpoint_path(1))
    assert ck["fixed_labels"].view(10, 10).tolist() == [[r] * 10 for r in range(10)]
    assert Image.open(res.run.sample_path(1)).size == (10 * 30 + 2, 10 * 30 + 2)


def test_bad_config_for_data_writes_no_run(tmp_path):
    from ganlib.store.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="batch_size"):
        train(TrainConfig(max_images=100, batch_size=128, device="cpu"), runs_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_resume_applies_new_learning_rate_and_refuses_fewer_epochs(tiny_cfg, tmp_path):
    from ganlib.core.errors import ConfigError
    from ganlib.engine.training import prepare

    res = train(tiny_cfg(epochs=2), runs_dir=tmp_path)
    trainer = prepare(tiny_cfg(epochs=3, lr_g=1e-3, lr_d=5e-5), resume=res.run.path)
    assert trainer.epoch == 2
    assert [g["lr"] for g in trainer.rule.opt_g.param_groups] == [1e-3]
    assert [g["lr"] for g in trainer.rule.opt_d.param_groups] == [5e-5]
    with pytest.raises(ConfigError, match="already trained 2 epochs"):
        prepare(tiny_cfg(epochs=1), resume=res.run.path)


def test_cpu_threads_apply_to_the_training_thread_only(tiny_cfg, tmp_path):
    """A job's thread count is its own: the caller (the dashboard's server) keeps its count."""
    import torch

    from ganlib.engine.training import Callbacks

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        res = train(tiny_cfg(epochs=1, eval_every=0, cpu_threads=1), runs_dir=tmp_path,
                    callbacks=Callbacks(on_start=lambda run: seen.append(torch.get_num_threads())))
        assert res.state == "completed" and seen == [1]
        assert torch.get_num_threads() == 2
        seen.clear()
        train(tiny_cfg(epochs=1, eval_every=0), runs_dir=tmp_path,
              callbacks=Callbacks(on_start=lambda run: seen.append(torch.get_num_threads())))
        assert seen == [2]  # 0: torch's count is left alone
    finally:
        torch.set_num_threads(before)

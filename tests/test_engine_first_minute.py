"""The engine behind the first minute of a new user: curves that move during an epoch, a time
budget, divergence caught before it is a wall of NaN, and evaluation that never changes what
a run trains."""
from __future__ import annotations

import pytest

from ganlib.engine import stream as stream_mod
from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import train

LOSS_COLS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_g", "grad_norm_d")


def test_running_means_stream_during_the_epoch_and_add_up_to_the_epoch_mean(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(stream_mod, "STREAM_INTERVAL_S", 0.0)  # a row after every step
    seen = []
    res = train(tiny_cfg(epochs=2, eval_every=0), runs_dir=tmp_path, callbacks=Callbacks(on_stream=seen.append))
    rows = res.run.stream()
    assert len(rows) == len(seen) == 2 * 8  # 512 images / batch 64 = 8 steps per epoch
    assert rows[0]["epoch"] == pytest.approx(1 / 8) and rows[-1]["epoch"] == pytest.approx(2.0)
    for e in (1, 2):  # each step's means average to the epoch's row
        part = [r for r in rows if e - 1 < r["epoch"] <= e]
        for col in LOSS_COLS:
            assert sum(r[col] for r in part) / len(part) == pytest.approx(res.rows[e - 1][col], rel=1e-5)


def test_a_resume_drops_the_stream_after_its_checkpoint(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(stream_mod, "STREAM_INTERVAL_S", 0.0)
    first = train(tiny_cfg(epochs=2, eval_every=0, checkpoint_every=1), runs_dir=tmp_path)
    (first.run.checkpoint_dir / "epoch_0002.pt").unlink()  # as if it died before writing epoch 2
    again = train(tiny_cfg(epochs=2, eval_every=0, checkpoint_every=1), resume=first.run.path)
    epochs = [r["epoch"] for r in again.run.stream()]
    assert epochs == sorted(epochs) and len(epochs) == 16  # epoch 2's rows once, not twice


def test_time_budget_ends_the_run_completed_with_the_reason(tiny_cfg, tmp_path):
    res = train(tiny_cfg(epochs=5000, eval_every=0, checkpoint_every=1000, time_budget=1.5), runs_dir=tmp_path)
    assert res.state == "completed" and res.epoch < 5000
    notes = res.run.status()["notes"]
    assert any("time budget of 1.5 s" in n for n in notes), notes
    if res.epoch:  # the last finished epoch is kept
        assert res.run.latest_checkpoint().name == f"epoch_{res.epoch:04d}.pt"


@pytest.mark.parametrize("loss", ["lsgan", "nonsaturating", "hinge", "wgan_gp"])
def test_exploding_losses_stop_the_run_as_diverged(tiny_cfg, tmp_path, loss):
    extra = {"d_norm": "none"} if loss == "wgan_gp" else {}
    res = train(tiny_cfg(epochs=4, eval_every=0, lr_g=1.0, lr_d=1.0, loss=loss, **extra), runs_dir=tmp_path)
    assert res.state == "diverged"
    assert "reached" in res.error or "NaN" in res.error or "infinite" in res.error
    if res.epoch == 0:
        assert "no checkpoint" in res.error and not res.run.checkpoints()
    else:
        assert f"epoch ({res.epoch}) is kept" in res.error and res.run.latest_checkpoint() is not None


def test_check_numbers_limits():
    stream_mod.check_numbers({"d_loss": 9e3, "grad_norm_d": 9e5, "d_fake": 1e9}, "here")  # D's scores: no limit
    with pytest.raises(Exception, match="d_loss reached 2e"):
        stream_mod.check_numbers({"d_loss": 2e4}, "here")
    with pytest.raises(Exception, match="grad_norm_g became NaN or infinite"):
        stream_mod.check_numbers({"grad_norm_g": float("nan")}, "here")


def _losses(res):
    return [[r[c] for c in LOSS_COLS] for r in res.rows]


def test_evaluation_never_changes_training(tiny_cfg, tmp_path):
    """Same config with and without live evaluation (and the untrained-generator ceiling):
    bit-identical per-epoch losses."""
    plain = train(tiny_cfg(model="cgan", epochs=3, eval_every=0), runs_dir=tmp_path / "a")
    evaluated = train(tiny_cfg(model="cgan", epochs=3, eval_every=1, eval_samples=500), runs_dir=tmp_path / "b")
    assert _losses(plain) == _losses(evaluated)
    untrained = [e for e in evaluated.run.evals() if e.get("untrained")]
    assert len(untrained) == 1 and untrained[0]["epoch"] == 0 and untrained[0]["fid"] > 0


def test_resume_with_evaluation_is_bit_identical(tiny_cfg, tmp_path):
    cfg = dict(model="cgan", eval_every=1, eval_samples=500, checkpoint_every=1)
    straight = train(tiny_cfg(epochs=2, **cfg), runs_dir=tmp_path / "a")
    half = train(tiny_cfg(epochs=1, **cfg), runs_dir=tmp_path / "b")
    resumed = train(tiny_cfg(epochs=2, **cfg), resume=half.run.path)
    assert _losses(straight) == _losses(resumed)

import time
from pathlib import Path

import pytest

from ganlib.core.errors import ConfigError
from ganlib.engine.forks import fork, lineage
from ganlib.engine.jobs import JobManager
from ganlib.engine.training import Callbacks, train
from ganlib.store.run_folder import Run

COLS = ("d_loss", "g_loss", "d_real", "d_fake")


def _edit_at(epoch_before: int, changes: dict):
    state = {"done": False, "calls": 0}

    def pending():
        state["calls"] += 1
        if state["calls"] == epoch_before + 1 and not state["done"]:
            state["done"] = True
            return dict(changes)
        return {}

    return pending


def test_live_edit_applies_at_epoch_boundary_and_is_recorded(tiny_cfg, tmp_path):
    plain = train(tiny_cfg(epochs=3, eval_every=0), runs_dir=tmp_path / "a")
    edited = train(tiny_cfg(epochs=3, eval_every=0), runs_dir=tmp_path / "b",
                   callbacks=Callbacks(pending_edits=_edit_at(2, {"lr_g": 1e-3, "lr_d": 1e-5})))
    # the first two epochs are the same run; the third trained with the new learning rates
    assert [[r[c] for c in COLS] for r in plain.rows[:2]] == [[r[c] for c in COLS] for r in edited.rows[:2]]
    assert [edited.rows[2][c] for c in COLS] != [plain.rows[2][c] for c in COLS]
    assert edited.run.edits() == [{"epoch": 2, "source": "live",
                                   "changes": {"lr_g": [2e-4, 1e-3], "lr_d": [2e-4, 1e-5]}}]
    assert edited.run.config().lr_g == 1e-3


def test_live_edit_refuses_shape_changes(tiny_cfg, tmp_path):
    jm = JobManager(tmp_path)
    jid = jm.start(tiny_cfg(epochs=200, max_images=0, checkpoint_every=1000, eval_every=0))
    try:
        with pytest.raises(ConfigError) as e:
            jm.edit(jid, latent_dim=64)
        assert e.value.field == "latent_dim"
        with pytest.raises(ConfigError):
            jm.edit(jid, lr_g=-1.0)
        jm.edit(jid, lr_g=5e-4)
        end = time.time() + 60
        while time.time() < end and not (jm.snapshot(jid)["run"] and Run(Path(jm.snapshot(jid)["run"])).edits()):
            time.sleep(0.1)
        run = Run(Path(jm.snapshot(jid)["run"]))
        assert run.edits()[0]["changes"] == {"lr_g": [2e-4, 5e-4]}
    finally:
        jm.stop(jid)
        jm.wait(jid, 60)


def test_fork_restores_full_state_and_continues_like_the_parent(tiny_cfg, tmp_path):
    parent = train(tiny_cfg(epochs=4, checkpoint_every=2, eval_every=0), runs_dir=tmp_path)
    same = fork(parent.run, {}, checkpoint=parent.run.checkpoint_path(2), runs_dir=tmp_path)
    assert [e for e, _ in same.samples()] == [0, 1, 2] and len(same.metrics()) == 2
    cont = train(same.config(), resume=same.path)
    # with no changes, the fork retraces the parent exactly: models, optimizers and RNG restored
    assert [[r[c] for c in COLS] for r in cont.rows] == [[r[c] for c in COLS] for r in parent.rows]
    info = same.fork_info()
    assert info["parent"] == parent.run.name and info["epoch"] == 2

    hot = fork(parent.run, {"lr_g": 1e-3, "epochs": 5}, checkpoint=parent.run.checkpoint_path(2), runs_dir=tmp_path)
    res = train(hot.config(), resume=hot.path)
    assert [r["epoch"] for r in res.rows] == [1, 2, 3, 4, 5]
    assert res.rows[2]["g_loss"] != parent.rows[2]["g_loss"]
    assert hot.edits()[-1] == {"epoch": 2, "source": "fork", "changes": {"lr_g": [2e-4, 1e-3], "epochs": [4, 5]}}
    assert [r.name for r in lineage(hot)] == [hot.name, parent.run.name]


def test_fork_refuses_architecture_changes(tiny_cfg, tmp_path):
    parent = train(tiny_cfg(epochs=1, eval_every=0), runs_dir=tmp_path)
    with pytest.raises(ConfigError) as e:
        fork(parent.run, {"latent_dim": 8}, runs_dir=tmp_path)
    assert e.value.field == "latent_dim"


def test_cli_fork_and_train_from_config_file(tiny_cfg, tmp_path, capsys):
    from ganlib.cli import main

    parent = train(tiny_cfg(epochs=2, eval_every=0), runs_dir=tmp_path)
    assert main(["fork", str(parent.run.path), "--checkpoint", "epoch_0001.pt", "--lr-d", "1e-4",
                 "--epochs", "3", "--runs-dir", str(tmp_path)]) == 0
    forked = Run(Path(capsys.readouterr().out.strip().splitlines()[-1]))
    assert forked.fork_info()["epoch"] == 1 and forked.config().lr_d == 1e-4
    assert main(["fork", str(parent.run.path), "--latent-dim", "8", "--runs-dir", str(tmp_path)]) == 2
    assert "latent_dim" in capsys.readouterr().err

    cfg_file = tmp_path / "cfg.yaml"
    assert main(["config", str(parent.run.path), "--format", "yaml", "--out", str(cfg_file)]) == 0
    capsys.readouterr()
    assert main(["train", "--config", str(cfg_file), "--epochs", "1", "--runs-dir", str(tmp_path / "again"),
                 "--no-progress"]) == 0
    again = Run(Path(capsys.readouterr().out.strip().splitlines()[-1]))
    assert again.config() == parent.run.config().replace(epochs=1)

"""The checkpoint format: one module builds, reads and validates it; old files still load."""
import pytest
import torch

from ganlib.engine.training import train
from ganlib.store.checkpoint_format import (
    FORMAT_VERSION,
    build_checkpoint,
    load_checkpoint,
    networks,
    optimizers,
    sampler_weights,
    save_checkpoint,
)
from ganlib.store.checkpoints import load_handle


def _v1(ck: dict) -> dict:
    """The same state as GAN Workbench wrote it before version 2: no names of its parts."""
    old = {k: v for k, v in ck.items() if k not in ("networks", "optimizers")}
    old["version"] = 1
    return old


def test_a_version_1_checkpoint_loads_resumes_and_samples_like_the_new_one(tiny_cfg, tmp_path):
    res = train(tiny_cfg(epochs=1, ema_decay=0.9), runs_dir=tmp_path)
    path = res.run.checkpoint_path(1)
    ck = load_checkpoint(path)
    assert ck["version"] == FORMAT_VERSION == 2
    assert ck["networks"] == ["D", "G", "G_ema"] and ck["optimizers"] == ["opt_g", "opt_d"]
    torch.save(_v1(ck), path)  # what an old run folder holds
    old = load_checkpoint(path)
    assert old["version"] == 2 and set(networks(old)) == {"G", "D", "G_ema"}
    assert set(optimizers(old)) == {"opt_g", "opt_d"}
    assert sampler_weights(old) is old["G_ema"]
    assert load_handle(path).epoch == 1
    resumed = train(res.run.config().replace(epochs=2), runs_dir=tmp_path, resume=res.run.path)
    assert resumed.state == "completed" and [r["epoch"] for r in resumed.rows] == [1, 2]


def test_a_newer_or_broken_checkpoint_is_refused_with_what_is_wrong(tmp_path):
    good = build_checkpoint(epoch=1, config={}, networks={"G": {"w": torch.zeros(1)}}, optimizers={},
                            rng={"torch": torch.get_rng_state()}, fixed_z=torch.zeros(1, 2), fixed_labels=None,
                            num_classes=1)
    path = save_checkpoint(tmp_path / "ok.pt", good)
    assert load_checkpoint(path)["epoch"] == 1
    for change, message in (({"version": 99}, "version 99"), ({"epoch": -1}, "epoch"),
                            ({"G": None}, "generator"), ({"networks": "G"}, "networks")):
        torch.save({**good, **change}, tmp_path / "bad.pt")
        with pytest.raises(ValueError, match=message):
            load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="named twice"):
        build_checkpoint(epoch=0, config={}, networks={"G": {}, "opt_g": {}}, optimizers={"opt_g": {}},
                         rng={}, fixed_z=torch.zeros(1), fixed_labels=None, num_classes=1)

"""Issue 21, item 4: the data stays uint8 on the device and each batch is converted there,
bit-identical to the old float path (so resume stays exact; tests/test_training.py holds the
resume itself); data over the memory check streams through the prefetcher, with the same batches."""
from __future__ import annotations

import pytest
import torch

from ganlib.data import load_dataset, load_raw, to_model_range
from ganlib.engine import memory
from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import prepare, train


@pytest.mark.parametrize("channels, size", [(1, 28), (1, 32), (3, 28), (3, 64)])
def test_a_batch_from_uint8_equals_the_old_float_paths_rows(channels, size):
    data = load_dataset("mnist5k", channels=channels, image_size=size, max_images=600)
    assert data.pixels.dtype == torch.uint8 and data.pixels.shape == (600, 1, 28, 28)  # as loaded: 1/4 of float32
    old = to_model_range(load_raw("mnist5k").images[:600], channels, size)  # what used to sit on the device
    idx = torch.randperm(600, generator=torch.Generator().manual_seed(3))[:64]
    assert torch.equal(data.batch(idx), old[idx])
    data.relayout(torch.channels_last)
    x = data.batch(idx)
    assert x.is_contiguous(memory_format=torch.channels_last) and torch.equal(x, old[idx])
    assert torch.equal(data.first(10), old[:10]) and torch.equal(data.images, old)  # the viewers' float view


def test_training_never_makes_a_float_copy_of_the_whole_data(tiny_cfg, tmp_path):
    trainer = prepare(tiny_cfg(epochs=1, eval_every=1, eval_samples=100), runs_dir=tmp_path)
    assert trainer.fit(Callbacks()) == "completed" and trainer.rows[0]["fid"] > 0
    assert trainer.data.pixels.dtype == torch.uint8 and not trainer.data._float


def squeeze_memory(monkeypatch, cfg) -> None:
    """Free memory: enough for the models, a batch and the prefetched batches, not for the data."""
    need = memory.estimate(cfg, cfg.max_images, 10)
    monkeypatch.setattr(memory, "available_bytes", lambda device: int((need.models + need.activations
                                                                         + need.data // 2) / memory.HEADROOM))


@pytest.mark.slow  # two runs of 2 epochs
def test_data_over_the_memory_check_streams_the_same_batches(tiny_cfg, tmp_path, monkeypatch):
    cfg = tiny_cfg(epochs=2, eval_every=2, eval_samples=100, max_images=1024, batch_size=32)  # 8 batches: 1/4
    resident = train(cfg, runs_dir=tmp_path / "resident")
    squeeze_memory(monkeypatch, cfg)
    streamed_trainer = prepare(cfg, runs_dir=tmp_path / "probe")
    assert streamed_trainer.data.streamed and streamed_trainer.data.pixels.device.type == "cpu"
    streamed = train(cfg, runs_dir=tmp_path / "streamed")
    assert streamed.state == resident.state == "completed"
    for a, b in zip(resident.rows, streamed.rows):  # the same batches, so the same losses and FID
        same = lambda x, y: x == y or (x != x and y != y)  # noqa: E731 - NaN (a metric that does not apply)
        assert a.keys() == b.keys() and all(same(a[k], b[k]) for k in a if not k.endswith(("_s", "_sec")))
    ga = torch.load(resident.run.latest_checkpoint(), weights_only=True)["G"]
    gb = torch.load(streamed.run.latest_checkpoint(), weights_only=True)["G"]
    assert all(torch.equal(ga[k], gb[k]) for k in ga)


def test_a_run_whose_models_cannot_fit_is_refused_even_streaming(tiny_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1 << 20)
    with pytest.raises(memory.ConfigError, match="would stream from host memory\\) but only 1 MiB is free"):
        train(tiny_cfg(), runs_dir=tmp_path)
    assert not any(tmp_path.iterdir()) if tmp_path.exists() else True


def test_the_memory_limit_variable_caps_what_the_check_takes_as_free(monkeypatch):
    monkeypatch.setenv("GANLIB_MEMORY_LIMIT", "300M")
    assert memory.free_bytes(torch.device("cpu")) == 300 << 20
    assert memory.parse_bytes("1.5G") == int(1.5 * 2**30) and memory.parse_bytes("2048") == 2048
    with pytest.raises(ValueError, match="GANLIB_MEMORY_LIMIT must be a size"):
        memory.parse_bytes("lots")

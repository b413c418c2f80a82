"""The speed options (precision bf16, channels_last, compile) on the CPU, with tiny data: they
train, they change how forward passes run but not what is trained or saved, and the config
refuses what they cannot do. torch.compile uses the aot_eager backend here (inductor would
compile for minutes on two cores); what the GPU gains is measured by benchmarks/conv_speed.py."""
import math

import pytest
import torch

import ganlib.engine.update_rules.common
from ganlib.cli.train import resume_config
from ganlib.engine.training import prepare, train
from ganlib.models import build_models
from ganlib.store.checkpoint_format import load_checkpoint
from ganlib.store.checkpoints import load_handle
from ganlib.store.config import ConfigError, TrainConfig, relevant_fields
from ganlib.store.run_folder import Run

LOSS_COLS = ("d_loss", "g_loss", "d_real", "d_fake", "penalty")


def _cfg(**kw):
    base = dict(model="dcgan", max_images=96, batch_size=32, epochs=1, device="cpu", eval_every=0, latent_dim=16,
                loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, d_norm="batch")
    return TrainConfig(**{**base, **kw})


def _losses(res):
    assert res.state == "completed", res.error
    return [r[c] for r in res.rows for c in LOSS_COLS]


@pytest.fixture
def cheap_compile(monkeypatch):
    monkeypatch.setattr(ganlib.engine.update_rules.common, "COMPILE_BACKEND", "aot_eager")


def test_bf16_runs_forward_passes_in_bfloat16_and_keeps_float32_state(tmp_path):
    # R1 on a layer-norm critic: the penalty's double backward runs under autocast too.
    # Batch 8: bfloat16 convolutions are slow on a CPU without bf16 instructions.
    small = dict(r1_gamma=1.0, d_norm="layer", epochs=2, max_images=16, batch_size=8)
    cfg = _cfg(precision="bf16", **small)
    trainer = prepare(cfg, runs_dir=tmp_path / "probe")
    seen = []
    trainer.G.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    trainer.rule.train_step(trainer.data.images[:8], None, 0, 0.0)
    assert seen == [torch.bfloat16]

    res = train(cfg, runs_dir=tmp_path)
    rows = _losses(res)
    assert all(math.isfinite(v) for v in rows) and res.rows[-1]["penalty"] > 0
    ck = load_checkpoint(res.run.checkpoint_path(2))
    assert {t.dtype for k in ("G", "D") for t in ck[k].values() if t.is_floating_point()} == {torch.float32}
    adam = [t for s in ck["opt_d"]["state"].values() for k, t in s.items() if k != "step"]
    assert adam and {t.dtype for t in adam} == {torch.float32}
    # bf16 moves the numbers, but it trains the same model
    fp32 = _losses(train(_cfg(**small), runs_dir=tmp_path))
    assert rows != fp32 and rows == pytest.approx(fp32, rel=0.05, abs=0.02)


def test_bf16_vae_keeps_its_loss_terms_in_float32(tmp_path):
    trainer = prepare(TrainConfig(model="vae", precision="bf16", max_images=64, batch_size=32, device="cpu",
                                  eval_every=0, epochs=1), runs_dir=tmp_path)
    steps = trainer.rule
    with steps.autocast():
        recon, kl = steps.loss_terms(trainer.data.images[:32])
        assert steps.G.fc1(trainer.data.images[:2].flatten(1)).dtype == torch.bfloat16
    assert recon.dtype == kl.dtype == torch.float32 and recon > 0 and kl >= 0


@pytest.mark.slow
def test_channels_last_trains_like_contiguous_and_saves_plain_tensors(tmp_path):
    # no dropout: its random masks are drawn in memory order, so they differ between layouts
    kw = dict(variant="seed001", channels=3, image_size=32, epochs=2, max_images=64, dropout=0.0)
    trainer = prepare(_cfg(channels_last=True, **kw), runs_dir=tmp_path / "probe")
    conv_w = trainer.D.trunk[0].weight
    assert conv_w.is_contiguous(memory_format=torch.channels_last) and not conv_w.is_contiguous()
    assert trainer.data.images[torch.tensor([3, 1])].is_contiguous(memory_format=torch.channels_last)

    cl = train(_cfg(channels_last=True, **kw), runs_dir=tmp_path)
    plain = train(_cfg(**kw), runs_dir=tmp_path)
    assert _losses(cl) == pytest.approx(_losses(plain), rel=1e-3, abs=1e-4)  # summation order only
    ck = load_checkpoint(cl.run.checkpoint_path(2))
    tensors = [*ck["G"].values(), *ck["D"].values(),
               *(t for s in ck["opt_d"]["state"].values() for t in s.values())]
    assert all(t.is_contiguous() for t in tensors)


def test_channels_last_resume_equals_uninterrupted(tmp_path):
    """The checkpoint's contiguous Adam state goes back into channels-last parameters: fused
    Adam would pair the wrong elements if their layouts differed (steps.match_layout)."""
    kw = dict(channels_last=True, checkpoint_every=10, max_images=64)
    full = train(_cfg(epochs=2, **kw), runs_dir=tmp_path / "a")
    half = train(_cfg(epochs=1, **kw), runs_dir=tmp_path / "b")
    rest = train(_cfg(epochs=2, **kw), resume=half.run.path)
    assert _losses(rest) == _losses(full)


@pytest.mark.slow
def test_compile_trains_like_eager_and_saves_plain_modules(tmp_path, cheap_compile):
    # cuda_graphs on a CPU compiles without CUDA graphs (and says so); R1 runs on the plain D
    kw = dict(ema_decay=0.5, r1_gamma=1.0, d_norm="layer")
    res = train(_cfg(compile="cuda_graphs", **kw), runs_dir=tmp_path)
    eager = train(_cfg(**kw), runs_dir=tmp_path)
    assert _losses(res) == pytest.approx(_losses(eager), rel=1e-5, abs=1e-6)
    notes = Run(res.run.path).status()["notes"]
    assert any("CUDA graphs need a GPU" in n for n in notes) and not any("failed" in n for n in notes)

    ck = load_checkpoint(res.run.checkpoint_path(1))
    G, D = build_models(TrainConfig.from_dict(ck["config"]))
    for model, name in ((G, "G"), (D, "D"), (G, "G_ema")):
        assert list(ck[name]) == list(model.state_dict())  # no "_orig_mod." anywhere
        model.load_state_dict(ck[name])
    G_loaded = load_handle(res.run.checkpoint_path(1)).G
    assert G_loaded(torch.randn(2, 16)).shape == (2, 1, 28, 28)


def test_compile_failure_falls_back_to_eager_with_a_note(tmp_path, monkeypatch):
    def broken_backend(gm, example_inputs):
        raise RuntimeError("no C compiler found")

    monkeypatch.setattr(ganlib.engine.update_rules.common, "COMPILE_BACKEND", broken_backend)
    res = train(_cfg(compile="compile"), runs_dir=tmp_path)
    eager = train(_cfg(), runs_dir=tmp_path)
    assert _losses(res) == _losses(eager)  # the failed try left no trace in weights, optimizers or RNG
    notes = Run(res.run.path).status()["notes"]
    assert any("torch.compile (compile) failed" in n and "no C compiler found" in n for n in notes)


def test_compiled_vae_trains(tmp_path, cheap_compile):
    res = train(TrainConfig(model="vae", compile="compile", max_images=64, batch_size=32, device="cpu",
                            eval_every=0, epochs=1), runs_dir=tmp_path)
    assert res.state == "completed", res.error
    assert math.isfinite(res.rows[-1]["neg_elbo"]) and not Run(res.run.path).status()["notes"]


@pytest.mark.parametrize("changes, field, why", [
    ({"precision": "fp16"}, "precision", "fp32 or bf16"),
    ({"compile": "max"}, "compile", "off, compile or cuda_graphs"),
    ({"model": "mlp_gan", "channels_last": True}, "channels_last", "no convolutional"),
    ({"model": "vae", "channels_last": True}, "channels_last", "no convolutional"),
])
def test_config_refuses_bad_speed_options(changes, field, why):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**changes)
    assert e.value.field == field and why in str(e.value)


def test_speed_options_defaults_coercion_and_visibility():
    c = TrainConfig()
    assert (c.precision, c.channels_last, c.compile) == ("fp32", False, "off")
    c = TrainConfig.from_dict({"model": "cdcgan", "precision": "bf16", "channels_last": "true",
                               "compile": "cuda_graphs"})
    assert (c.precision, c.channels_last, c.compile) == ("bf16", True, "cuda_graphs")
    assert TrainConfig.from_json(c.to_json()) == c
    assert {"precision", "compile", "channels_last"} <= relevant_fields({"model": "dcgan"})
    for model in ("mlp_gan", "vae"):
        shown = relevant_fields({"model": model})
        assert "channels_last" not in shown and {"precision", "compile"} <= shown


def test_resume_may_change_the_speed_options(tmp_path):
    run = train(_cfg(max_images=32), runs_dir=tmp_path).run
    cfg = resume_config(run, {"precision": "bf16", "compile": "compile", "channels_last": "true", "epochs": "2"})
    assert (cfg.precision, cfg.compile, cfg.channels_last, cfg.epochs) == ("bf16", "compile", True, 2)

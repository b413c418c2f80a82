"""Every registered model trains a few steps with every loss it accepts (tiny data, CPU):
finite losses and a checkpoint that reloads. Plus the stabilisers and the refused combinations."""
import math

import pytest
import torch

from ganlib.engine.training import train
from ganlib.losses import LOSSES
from ganlib.models import MODELS
from ganlib.store.checkpoint_format import load_checkpoint
from ganlib.store.checkpoints import load_handle
from ganlib.store.config import ConfigError, TrainConfig

GAN_LOSSES = LOSSES.names()


def _cfg(model, loss="nonsaturating", **kw):
    base = dict(model=model, loss=loss, max_images=128, batch_size=32, epochs=1, device="cpu", eval_every=0,
                latent_dim=16, lr_g=2e-4, lr_d=2e-4, d_norm="batch", sample_steps=2)
    if loss in ("wgan_gp",) and MODELS.get(model).convolutional:
        base["d_norm"] = "layer"
    return TrainConfig(**{**base, **kw})


def _combos():
    for m in MODELS.names():
        if MODELS.get(m).translation:  # their own objective and data: tests/test_translation_training.py
            continue
        if not MODELS.get(m).adversarial:  # the VAE, diffusion: no discriminator, so no GAN loss
            yield m, "nonsaturating"
        else:
            for loss in GAN_LOSSES:
                yield m, loss


@pytest.mark.parametrize("model, loss", list(_combos()))
def test_every_model_trains_with_every_loss(model, loss, tmp_path):
    res = train(_cfg(model, loss), runs_dir=tmp_path)
    assert res.state == "completed", res.error
    row = res.rows[-1]
    numeric = [v for k, v in row.items() if isinstance(v, float)]
    assert numeric and all(math.isfinite(v) for v in numeric)
    h = load_handle(res.run.checkpoint_path(1))
    y = torch.zeros(2, dtype=torch.long) if MODELS.get(model).conditional else None
    assert h.G(torch.randn(2, h.latent_dim), y).shape == (2, 1, 28, 28)
    if MODELS.get(model).kind == "vae":
        assert {"neg_elbo", "recon", "kl"} <= set(row) and res.run.reconstructions()
        assert row["neg_elbo"] == pytest.approx(row["recon"] + row["kl"], rel=1e-4)


def test_stabilisers_together(tmp_path):
    cfg = _cfg("dcgan", "hinge", ema_decay=0.9, instance_noise=0.2, minibatch_std=True, spectral_norm=True,
               diffaugment="translation,cutout,color", n_critic=2, r1_gamma=1.0, d_norm="none", lr_d=4e-4)
    res = train(cfg, runs_dir=tmp_path)
    assert res.state == "completed", res.error
    ck = load_checkpoint(res.run.checkpoint_path(1))
    assert ck["G_ema"] is not None and res.rows[-1]["penalty"] > 0
    # the EMA copy moved away from the initial weights but is not the raw generator
    g, e = ck["G"], ck["G_ema"]
    assert any(not torch.equal(g[k], e[k]) for k in g if g[k].is_floating_point())


def test_wgan_clips_critic_weights(tmp_path):
    res = train(_cfg("mlp_gan", "wgan", clip_value=0.01, n_critic=2), runs_dir=tmp_path)
    D = load_checkpoint(res.run.checkpoint_path(1))["D"]
    assert max(t.abs().max().item() for t in D.values()) <= 0.01 + 1e-7


def test_label_smoothing_changes_bce_target():
    from ganlib.losses.bce import bce_d_loss

    real, fake = torch.tensor([5.0]), torch.tensor([-5.0])
    assert bce_d_loss(real, fake, 0.1) > bce_d_loss(real, fake, 0.0) + 0.3


def test_resume_with_ema_equals_uninterrupted(tmp_path):
    kw = dict(ema_decay=0.5, epochs=3, checkpoint_every=10, max_images=128)
    full = train(_cfg("dcgan", **kw), runs_dir=tmp_path / "a")
    half = train(_cfg("dcgan", **{**kw, "epochs": 1}), runs_dir=tmp_path / "b")
    rest = train(_cfg("dcgan", **kw), resume=half.run.path)
    cols = ("d_loss", "g_loss", "d_real", "d_fake")
    assert [[r[c] for c in cols] for r in full.rows] == [[r[c] for c in cols] for r in rest.rows]


@pytest.mark.parametrize("changes, field, why", [
    ({"model": "dcgan", "loss": "wgan_gp", "d_norm": "batch"}, "d_norm", "BatchNorm"),
    ({"model": "dcgan", "gradient_penalty": True, "d_norm": "batch"}, "d_norm", "BatchNorm"),
    ({"model": "cdcgan", "r1_gamma": 1.0, "d_norm": "batch"}, "d_norm", "BatchNorm"),
    ({"model": "mlp_gan", "loss": "wgan", "label_smoothing": 0.1}, "label_smoothing", "BCE"),
    ({"model": "cdcgan_compact", "minibatch_std": True}, "minibatch_std", "no minibatch std"),
    ({"model": "cdcgan_compact", "image_size": 30}, "image_size", "multiple of 4"),
    ({"model": "mlp_gan", "patch_gan": True}, "patch_gan", "convolutional"),
    ({"model": "cdcgan", "patch_gan": True}, "patch_gan", "projection"),
    ({"model": "vae", "spectral_norm": True}, "spectral_norm", "no discriminator"),
    ({"model": "vae", "n_critic": 5}, "n_critic", "no discriminator"),
    ({"model": "dcgan", "image_size": 48}, "image_size", "28, 32 or 64"),
    ({"model": "dcgan", "variant": "stylegan"}, "variant", "radford"),
    ({"diffaugment": "rotate"}, "diffaugment", "rotate"),
    ({"ema_decay": 1.0}, "ema_decay", "between 0 and 0.9999"),  # the field's metadata range
])
def test_nonsense_combinations_are_refused(changes, field, why):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**changes)
    assert e.value.field == field and why in str(e.value)


def test_wgan_gp_with_layer_norm_critic_is_accepted():
    TrainConfig(model="dcgan", loss="wgan_gp", d_norm="layer", n_critic=5)


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
def test_discriminators_start_with_small_logits(model):
    """An untrained D must not be saturated: with unit-scale class vectors the projection head
    gave logits in the hundreds (BCE near 50, no gradient for G, a collapsed cdcgan)."""
    from ganlib.data import load_dataset
    from ganlib.models import build_models

    torch.manual_seed(0)
    cfg = TrainConfig(model=model)
    data = load_dataset("mnist5k", max_images=256)
    _, D = build_models(cfg, data.num_classes)
    with torch.no_grad():
        logits = D(data.images, data.labels) if MODELS.get(model).conditional else D(data.images)
    assert logits.abs().max() < 25.0  # about 12 for cdcgan, 2 for dcgan; hundreds before the fix


def test_vae_on_a_tiny_dataset_writes_a_smaller_reconstruction_grid(tmp_path):
    """20 images: 2 rows of 8 originals, each followed by its reconstructions (was a crash)."""
    from PIL import Image

    res = train(TrainConfig(model="vae", latent_dim=20, epochs=1, max_images=20, batch_size=4, device="cpu"),
                runs_dir=tmp_path)
    assert res.state == "completed"
    (_, png), *_ = res.run.reconstructions()
    with Image.open(png) as im:
        assert im.size == (8 * 30 + 2, 4 * 30 + 2)  # 28-px images, 2-px padding

import pytest
import torch
from torch import nn

from ganlib.models import MODELS, build_models, latent_size
from ganlib.store.config import TrainConfig


def _variants(name):
    return MODELS.get(name).variants


# Noise-to-image models; the translators (pix2pix, cyclegan) map images: tests/test_translation_models.py
@pytest.mark.parametrize("name, variant", [(n, v) for n in MODELS.names() if not MODELS.get(n).translation
                                           for v in _variants(n)])
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32), (3, 64)])
def test_every_model_shapes(name, variant, channels, size):
    cfg = TrainConfig(model=name, variant=variant, channels=channels, image_size=size, latent_dim=16,
                      sample_steps=2)
    G, D = build_models(cfg, num_classes=10)
    z = torch.randn(5, latent_size(cfg))
    y = torch.arange(5) if MODELS.get(name).conditional else None
    x = G(z, y)
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # the data's range
    if MODELS.get(name).kind == "vae":
        assert D is None and G.reconstruct(x).shape == x.shape
    elif not MODELS.get(name).adversarial:  # diffusion: G is the sampler, nothing judges it
        assert D is None
    else:
        assert D(x, y).shape == (5,)  # logits, one per image


def test_patch_gan_head_gives_one_logit_per_patch():
    for variant in ("radford", "seed001"):
        cfg = TrainConfig(model="dcgan", variant=variant, channels=3, image_size=32, patch_gan=True)
        G, D = build_models(cfg)
        out = D(G(torch.randn(2, 100)))
        assert out.dim() == 2 and out.shape[0] == 2 and out.shape[1] > 1


def test_seed001_networks_are_the_seeds():
    G, D = build_models(TrainConfig(model="dcgan", variant="seed001", channels=3, image_size=32))
    convs = [(m.in_channels, m.out_channels, m.stride[0]) for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(3, 32, 2), (32, 64, 2), (64, 128, 2), (128, 256, 1)]
    assert [m.in_features for m in D.modules() if isinstance(m, nn.Linear)] == [256 * 5 * 5]
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [128 * 8 * 8]
    assert sum(isinstance(m, nn.Upsample) for m in G.modules()) == 2


def test_seed000_vae():
    G, D = build_models(TrainConfig(model="vae", latent_dim=20))
    assert D is None
    assert _linear_dims(G) == [(784, 400), (400, 20), (400, 20), (20, 400), (400, 784)]


def test_spectral_norm_and_minibatch_std_reach_d():
    _, D = build_models(TrainConfig(model="mlp_gan", spectral_norm=True, minibatch_std=True))
    assert any("parametrizations" in n for n, _ in D.named_modules())
    assert D(torch.randn(4, 1, 28, 28)).shape == (4,)


def _linear_dims(m: nn.Module):
    return [(lin.in_features, lin.out_features) for lin in m.modules() if isinstance(lin, nn.Linear)]


def test_mlp_gan_is_seed_000():
    G, D = build_models(TrainConfig(model="mlp_gan"))
    assert _linear_dims(G) == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert _linear_dims(D) == [(784, 512), (512, 256), (256, 1)]
    assert all(m.p == 0.3 for m in G.modules() if isinstance(m, nn.Dropout))
    assert [m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)] == [0.2, 0.2]
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())  # logits for BCE-with-logits


def test_cgan_is_seed_004():
    G, D = build_models(TrainConfig(model="cgan"))
    assert _linear_dims(G) == [(116, 256), (256, 512), (512, 1024), (1024, 784)]
    assert _linear_dims(D) == [(800, 1024), (1024, 512), (512, 256), (256, 1)]
    assert G.embed.embedding_dim == 16 and D.embed.num_embeddings == 10
    assert all(m.p == 0.2 for m in D.modules() if isinstance(m, nn.Dropout))


def test_dropout_override():
    G, _ = build_models(TrainConfig(model="cgan", dropout=0.5))
    assert {m.p for m in G.modules() if isinstance(m, nn.Dropout)} == {0.5}


def test_cgan_label_changes_output():
    torch.manual_seed(0)
    G, _ = build_models(TrainConfig(model="cgan"))
    G.eval()
    z = torch.randn(1, 100).repeat(2, 1)
    x = G(z, torch.tensor([1, 7]))
    assert not torch.allclose(x[0], x[1])

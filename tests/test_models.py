import pytest
import torch
from torch import nn

from ganlib.config import TrainConfig
from ganlib.models import MODELS, build_models


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32)])
def test_every_model_shapes(name, channels, size):
    cfg = TrainConfig(model=name, channels=channels, image_size=size, latent_dim=16)
    G, D = build_models(cfg, num_classes=10)
    z = torch.randn(5, 16)
    y = torch.arange(5) if MODELS.get(name).conditional else None
    x = G(z, y)
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # Tanh output, the data's range
    assert D(x, y).shape == (5,)  # logits, one per image


def _linear_dims(m: nn.Module):
    return [(l.in_features, l.out_features) for l in m.modules() if isinstance(l, nn.Linear)]


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

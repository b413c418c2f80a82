"""The translation networks: shapes at every size the workbench offers, the PatchGAN's stated
receptive field, and the pairs CycleGAN keeps in one checkpoint entry."""
import pytest
import torch
from torch import nn

from ganlib.models import MODELS, build_models
from ganlib.models.translation_layers import PatchDiscriminator, receptive_field
from ganlib.store.config import TrainConfig


@pytest.mark.parametrize("model, variant", [("pix2pix", "default"), ("cyclegan", "unet"), ("cyclegan", "resnet")])
@pytest.mark.parametrize("channels, size", [(1, 28), (3, 32), (3, 64), (1, 16)])
def test_translators_keep_the_image_shape(model, variant, channels, size):
    cfg = TrainConfig(model=model, variant=variant, channels=channels, image_size=size)
    G, D = build_models(cfg)
    x = torch.rand(2, channels, size, size) * 2 - 1
    y = G(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    if model == "pix2pix":  # D judges the (input, output) pair
        assert D(torch.cat([x, y], 1)).shape[0] == 2
    else:
        assert G.back(y).shape == x.shape and D.a(x).dim() == 2 and D.b(y).dim() == 2


@pytest.mark.parametrize("n_layers, rf", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_is_what_its_docs_state(n_layers, rf):
    """The stated field against a measurement: the input pixels that move one output logit."""
    assert receptive_field(n_layers) == rf
    D = PatchDiscriminator(1, n_layers).eval()
    for parent in list(D.modules()):  # InstanceNorm mixes every position: measure the convolutions alone
        for name, child in parent.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                setattr(parent, name, nn.Identity())
    size = 128
    x = torch.randn(1, 1, size, size, requires_grad=True)
    out = D.net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    assert int(rows.max() - rows.min() + 1) == rf


def test_pix2pix_dropout_is_its_noise():
    G, _ = build_models(TrainConfig(model="pix2pix", dataset="edges2digits"))
    assert MODELS.get("pix2pix").default_dropout == 0.5
    assert sum(isinstance(m, nn.Dropout) for m in G.modules()) == 3
    x = torch.rand(2, 1, 28, 28)
    G.train()
    assert not torch.equal(G(x), G(x))  # dropout on while training
    G.eval()
    assert torch.equal(G(x), G(x))

import math

import torch

from ganlib.losses import LOSSES


def test_bce_losses_match_the_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    s = torch.sigmoid
    d_ref = -(torch.log(s(real)).mean() + torch.log(1 - s(fake)).mean())
    for name in ("nonsaturating", "minimax"):
        assert torch.allclose(LOSSES.get(name).d_loss(real, fake), d_ref, atol=1e-6)
    assert torch.allclose(LOSSES.get("nonsaturating").g_loss(fake), -torch.log(s(fake)).mean(), atol=1e-6)
    assert torch.allclose(LOSSES.get("minimax").g_loss(fake), torch.log(1 - s(fake)).mean(), atol=1e-6)


def test_minimax_saturates_where_nonsaturating_does_not():
    """Seed 002: when D rejects fakes confidently, minimax's gradient vanishes."""
    grads = {}
    for name in ("nonsaturating", "minimax"):
        fake = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ~ 3e-4
        LOSSES.get(name).g_loss(fake).backward()
        grads[name] = abs(fake.grad.item())
    assert grads["nonsaturating"] > 0.99 and grads["minimax"] < 1e-3
    assert math.isfinite(grads["minimax"])

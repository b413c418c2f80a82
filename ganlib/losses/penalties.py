"""Penalties on D's gradients: WGAN-GP's gradient penalty and R1.

Both take an optional `generator` for their random draws: the engine uses the global
(training) RNG, the 2-D playground passes its own so that it never shifts a training job.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: Optional[torch.Tensor],
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 at random points between
    real and fake images."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype,
                     generator=generator)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = D(x_hat, labels)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(D: nn.Module, real: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): the squared gradient norm of D on real images; the caller
    multiplies by gamma / 2."""
    x = real.detach().requires_grad_(True)
    out = D(x, labels)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()

"""GAN losses on discriminator outputs (logits or critic scores), and the penalties.

Each registry entry is a pair (D loss, G loss) plus what the engine must do around it: clip
D's weights (WGAN), add the gradient penalty (WGAN-GP). Outputs of shape (N,) or (N, P) patch
scores both work: every loss averages over all elements.

G's BCE loss comes in two forms (seed 002): minimax descends log(1 - D(G(z))), whose gradient
vanishes while D confidently rejects fakes early on; the non-saturating form ascends log D(G(z))
instead and is what the seeds actually train with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.registry import Registry


@dataclass(frozen=True)
class GANLoss:
    d_loss: Callable[..., torch.Tensor]  # (real, fake, smooth=0.0) -> scalar
    g_loss: Callable[[torch.Tensor], torch.Tensor]  # fake -> scalar
    description: str
    bce: bool = False  # outputs are logits of P(real): label smoothing applies, D(x) is a probability
    needs_gp: bool = False  # WGAN-GP: the gradient penalty is part of the loss
    clip: bool = False  # WGAN: clip D's weights after each D step
    suggested_n_critic: int = 1


LOSSES: Registry[GANLoss] = Registry("loss")


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the seeds' d_loss_real + d_loss_fake. `smooth` is
    one-sided label smoothing: real targets 1 - smooth, fake targets stay 0."""
    return F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1.0 - smooth)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))  # -log D(G(z))


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))  # log(1 - D(G(z)))


def lsgan_d_loss(real, fake, smooth: float = 0.0):
    """Least squares (Mao et al. 2017, seed 003): D regresses real to 1 and fake to 0."""
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def lsgan_g_loss(fake):
    return 0.5 * (fake - 1).pow(2).mean()


def wasserstein_d_loss(real, fake, smooth: float = 0.0):
    """The critic maximises E[D(x)] - E[D(G(z))]; no sigmoid anywhere."""
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake):
    return -fake.mean()


def hinge_d_loss(real, fake, smooth: float = 0.0):
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


LOSSES.add("nonsaturating", GANLoss(bce_d_loss, nonsaturating_g_loss,
                                    "BCE; G minimises -log D(G(z)) (the seeds' choice)", bce=True))
LOSSES.add("minimax", GANLoss(bce_d_loss, minimax_g_loss,
                              "BCE; G minimises log(1 - D(G(z))) (the original minimax game)", bce=True))
LOSSES.add("lsgan", GANLoss(lsgan_d_loss, lsgan_g_loss, "Least squares (LSGAN, MSE on D's output)"))
LOSSES.add("wgan", GANLoss(wasserstein_d_loss, wasserstein_g_loss,
                           "Wasserstein with weight clipping (clip_value); use n_critic 5", clip=True,
                           suggested_n_critic=5))
LOSSES.add("wgan_gp", GANLoss(wasserstein_d_loss, wasserstein_g_loss,
                              "Wasserstein with gradient penalty (gp_weight, n_critic 5)", needs_gp=True,
                              suggested_n_critic=5))
LOSSES.add("hinge", GANLoss(hinge_d_loss, wasserstein_g_loss, "Hinge loss (SNGAN, BigGAN)"))


# ---- penalties --------------------------------------------------------------------------
def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 at random points between
    real and fake images."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
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

"""Wasserstein GAN (seed 003): a critic's score, no sigmoid anywhere; kept Lipschitz by weight
clipping (WGAN) or by the gradient penalty (WGAN-GP, `penalties.gradient_penalty`)."""
from __future__ import annotations

import torch

from ganlib.losses import LOSSES, DScale, GANLoss


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    """The critic maximises E[D(x)] - E[D(G(z))]."""
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


# A critic's score has no fixed scale: only the gap between real and fake means something.
CRITIC = DScale("mean critic score (no sigmoid: only the gap between the two means something)")
LOSSES.add("wgan", GANLoss(wasserstein_d_loss, wasserstein_g_loss,
                           "Wasserstein with weight clipping (clip_value); use n_critic 5", clip=True,
                           suggested_n_critic=5, d_scale=CRITIC))
LOSSES.add("wgan_gp", GANLoss(wasserstein_d_loss, wasserstein_g_loss,
                              "Wasserstein with gradient penalty (gp_weight, n_critic 5)", needs_gp=True,
                              suggested_n_critic=5, d_scale=CRITIC))

"""Least squares GAN (Mao et al. 2017, seed 003): D regresses real to 1 and fake to 0."""
from __future__ import annotations

import torch

from ganlib.losses import LOSSES, DScale, GANLoss


def lsgan_d_loss(real: torch.Tensor, fake: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def lsgan_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (fake - 1).pow(2).mean()


# D regresses to 1 (real) and 0 (fake): its raw output, at 0.5 where the two cannot be told apart.
LOSSES.add("lsgan", GANLoss(lsgan_d_loss, lsgan_g_loss, "Least squares (LSGAN, MSE on D's output)",
                            d_scale=DScale("mean raw output (LSGAN targets: real 1, fake 0)",
                                           ((0.5, "0.5: D cannot tell"),))))

"""Hinge loss (SNGAN, BigGAN): D's margin of 1 on each side; G raises D's score of fakes."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganlib.losses import LOSSES, DScale, GANLoss
from ganlib.losses.wasserstein import wasserstein_g_loss


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


# Raw scores: D is satisfied once real scores reach +1 and fake ones -1 (its margins).
LOSSES.add("hinge", GANLoss(hinge_d_loss, wasserstein_g_loss, "Hinge loss (SNGAN, BigGAN)",
                            d_scale=DScale("mean raw score (hinge: no sigmoid)",
                                           ((1.0, "+1: real margin"), (-1.0, "−1: fake margin")))))

"""The binary cross-entropy losses of the original GAN (seed 000, seed 002).

G's BCE loss comes in two forms (seed 002): minimax descends log(1 - D(G(z))), whose gradient
vanishes while D confidently rejects fakes early on; the non-saturating form ascends log D(G(z))
instead and is what the seeds actually train with.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganlib.losses import LOSSES, DScale, GANLoss


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the seeds' d_loss_real + d_loss_fake. `smooth` is
    one-sided label smoothing: real targets 1 - smooth, fake targets stay 0."""
    return F.binary_cross_entropy_with_logits(real, torch.full_like(real, 1.0 - smooth)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))  # -log D(G(z))


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))  # log(1 - D(G(z)))


# D's outputs are recorded as sigmoid(logit): probabilities, 0.5 where D can no longer tell.
PROBABILITY = DScale("mean probability (sigmoid of D's logit)", ((0.5, "0.5: D cannot tell"),), (-0.02, 1.02))
LOSSES.add("nonsaturating", GANLoss(bce_d_loss, nonsaturating_g_loss,
                                    "BCE; G minimises -log D(G(z)) (the seeds' choice)", bce=True, d_scale=PROBABILITY))
LOSSES.add("minimax", GANLoss(bce_d_loss, minimax_g_loss,
                              "BCE; G minimises log(1 - D(G(z))) (the original minimax game)", bce=True,
                              d_scale=PROBABILITY))

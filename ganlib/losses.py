"""GAN losses on discriminator logits. Each is a pair (D loss, G loss) in one registry entry.

Both entries here use BCE with logits for D. They differ in G's loss (seed 002): minimax
descends log(1 - D(G(z))), whose gradient vanishes while D confidently rejects fakes early on;
the non-saturating form ascends log D(G(z)) instead and is what the seeds actually train with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ganlib.registry import Registry

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GANLoss:
    d_loss: LossFn  # (real_logits, fake_logits) -> scalar
    g_loss: Callable[[torch.Tensor], torch.Tensor]  # fake_logits -> scalar
    description: str


LOSSES: Registry[GANLoss] = Registry("loss")


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))): the seeds' d_loss_real + d_loss_fake."""
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def nonsaturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))  # -log D(G(z))


def minimax_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))  # log(1 - D(G(z)))


LOSSES.add("nonsaturating", GANLoss(bce_d_loss, nonsaturating_g_loss,
                                    "BCE; G minimises -log D(G(z)) (the seeds' choice)"))
LOSSES.add("minimax", GANLoss(bce_d_loss, minimax_g_loss,
                              "BCE; G minimises log(1 - D(G(z))) (the original minimax game)"))

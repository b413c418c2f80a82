"""Layer 1 (a plugin), losses: what G and D minimise. A registry of GAN losses (one file per
loss family, each ending by registering itself), the penalties (gradient penalty, R1) and
DiffAugment, the augmentation D sees. It imports only core.

Each registry entry is a pair (D loss, G loss) plus what the engine must do around it: clip
D's weights (WGAN), add the gradient penalty (WGAN-GP). Outputs of shape (N,) or (N, P) patch
scores both work: every loss averages over all elements.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch

from ganlib.core.registry import Registry


@dataclass(frozen=True)
class DScale:
    """How D's recorded outputs, D(x) and D(G(z)) (the update rules record them per loss: a
    probability for BCE, the raw score otherwise), read on a chart: the axis title, reference
    lines with their meaning, and a fixed range only where the values cannot leave it."""
    axis: str
    lines: tuple[tuple[float, str], ...] = ()
    range: Optional[tuple[float, float]] = None


RAW_SCORE = DScale("mean raw score (D's output, no sigmoid)")


@dataclass(frozen=True)
class GANLoss:
    d_loss: Callable[..., torch.Tensor]  # (real, fake, smooth=0.0) -> scalar
    g_loss: Callable[[torch.Tensor], torch.Tensor]  # fake -> scalar
    description: str
    bce: bool = False  # outputs are logits of P(real): label smoothing applies, D(x) is a probability
    needs_gp: bool = False  # WGAN-GP: the gradient penalty is part of the loss
    clip: bool = False  # WGAN: clip D's weights after each D step
    suggested_n_critic: int = 1
    d_scale: DScale = RAW_SCORE  # how D(x) and D(G(z)) read on a chart


LOSSES: Registry[GANLoss] = Registry("loss")

# Registration: one import per loss file.
# isort: off
from ganlib.losses import bce as _bce  # noqa: E402,F401
from ganlib.losses import lsgan as _lsgan  # noqa: E402,F401
from ganlib.losses import wasserstein as _wasserstein  # noqa: E402,F401
from ganlib.losses import hinge as _hinge  # noqa: E402,F401
# isort: on

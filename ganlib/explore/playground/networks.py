"""The playground's G and D: small MLPs on the plane, initialised from the playground's own
`torch.Generator` so that building them never moves torch's global RNG."""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
from torch import nn


def _mlp(sizes: list[int], act: Callable[[], nn.Module], gen: torch.Generator) -> nn.Sequential:
    """Linear layers initialised like nn.Linear's default, but from `gen` (skip_init leaves the
    global RNG alone)."""
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.utils.skip_init(nn.Linear, a, b)
        nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=gen)
        nn.init.uniform_(lin.bias, -1 / math.sqrt(a), 1 / math.sqrt(a), generator=gen)
        mods.append(lin)
        if i < len(sizes) - 2:
            mods.append(act())
    return nn.Sequential(*mods)


class ToyGenerator(nn.Module):
    """noise (N, noise_dim) -> points (N, 2); ReLU hidden layers, a linear output. Takes
    `labels` and ignores it, like every G in ganlib, so the engine's update rule can drive it."""

    def __init__(self, noise_dim: int, hidden: int, layers: int, gen: torch.Generator):
        super().__init__()
        self.net = _mlp([noise_dim] + [hidden] * layers + [2], nn.ReLU, gen)

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """points (N, 2) -> (N,) logits (BCE losses) or critic scores; LeakyReLU 0.2 hidden layers.
    Takes `labels` and ignores it, like every D in ganlib, so the engine's penalties apply."""

    def __init__(self, hidden: int, layers: int, gen: torch.Generator):
        super().__init__()
        self.net = _mlp([2] + [hidden] * layers + [1], lambda: nn.LeakyReLU(0.2), gen)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(x).squeeze(1)

"""Layers the model files share: minibatch standard deviation, DCGAN init, size arithmetic."""
from __future__ import annotations

import math

import torch
from torch import nn


class MinibatchStd(nn.Module):
    """Appends the batch's mean feature standard deviation as one more feature (or channel).

    Seed 004's remedy for mode collapse ("minibatch discrimination"): a collapsed generator
    makes a batch with low variety, which D can now see. Works on (N, F) and (N, C, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = x.float().std(dim=0, unbiased=False).mean().to(x.dtype)
        extra = std.expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, extra], dim=1)


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: conv weights N(0, 0.02), norm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def norm2d(kind: str, channels: int, momentum: float = 0.1) -> nn.Module:
    """BatchNorm, a per-sample LayerNorm (GroupNorm with one group: safe under a gradient
    penalty, which needs per-sample gradients) or nothing."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, momentum=momentum)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def start_size(size: int) -> tuple[int, int]:
    """Smallest feature map of a DCGAN and the number of 2x steps to reach `size`:
    28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4)."""
    levels = 0
    s = size
    while s % 2 == 0 and s > 7 and s // 2 >= 4:
        s //= 2
        levels += 1
    return s, levels


def flat_dim(module: nn.Module, shape: tuple[int, int, int]) -> int:
    with torch.no_grad():
        was = module.training
        module.eval()
        out = module(torch.zeros(2, *shape))
        module.train(was)
    return math.prod(out.shape[1:])

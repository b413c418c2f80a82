"""How spread out the samples are in pixels, against the real images: the one quality signal
that needs no feature extractor, so a run on data no extractor fits is still checked for samples
that are all alike (a collapsed generator draws the same few images whatever the noise).

    spread = mean distance between two generated samples / mean distance between two real images

both on images shrunk to at most SIDE px (`F.interpolate`, area), over at most N of each. About 1
when the samples vary as much as the data; near 0 when they are copies of one another
(`health_rules.PIXEL_ALIKE`, 0.25, is the verdict's threshold, with a fall below half the untrained
generator's spread (`SPREAD_FALL`): a fresh DCGAN spreads 0.014 on icons; the untrained default generator's
samples spread 0.255 on mnist5k; the collapsed and transparent-icon runs in tests/fixtures/health
0.00 to 0.04).
It says nothing about whether the samples look like the data: a generator of noise is spread
out too. `metric_registry.METRICS` names `compute_pixel_spread` for the "pixels" family.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

SIDE = 32  # images are compared at this size at most: fine detail is not what makes them alike
N = 500  # samples (and real images) compared: 125,000 pairs each


def shrink(images: torch.Tensor) -> torch.Tensor:
    """(n, C, H, W) in [-1, 1] -> (n, C * s * s) float32 at s = min(SIDE, H)."""
    x = images.float()
    if x.shape[-1] > SIDE:
        x = F.interpolate(x, size=(SIDE, SIDE), mode="area")
    return x.flatten(1)


def mean_distance(x: torch.Tensor) -> float:
    """Mean Euclidean distance between two different rows of `x` (float64 sum)."""
    n = len(x)
    if n < 2:
        return float("nan")
    return (torch.cdist(x, x).double().sum() / (n * (n - 1))).item()


@dataclass
class PixelInputs:
    """Generated samples and real images, both through `shrink`."""
    gen: torch.Tensor
    real: torch.Tensor


def compute_pixel_spread(x: PixelInputs) -> dict[str, float]:
    real = mean_distance(x.real)
    return {"pixel_spread": mean_distance(x.gen) / real if real > 0 else float("nan")}

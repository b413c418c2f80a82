"""The 2-D toy distributions the playground learns, and how to count the modes a generator
covers (mode collapse shows as covered modes falling while most points stay near some mode).

    x = TOYS.get("ring").sample(1000, torch.Generator().manual_seed(0))   # (1000, 2)
    modes_covered(x.numpy(), TOYS.get("ring").centres, radius=0.3, min_count=0.01).covered

Samplers draw only from the generator they are given, never from torch's global RNG.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import torch

from ganlib.core.errors import BadValue
from ganlib.core.registry import Registry


# ---- toy distributions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Toy:
    """A 2-D distribution: `sample(n, gen)` returns an (n, 2) float tensor."""

    sample: Callable[[int, torch.Generator], torch.Tensor]
    description: str
    std: float  # the noise around each mode (or around the curve)
    centres: Optional[np.ndarray] = None  # (M, 2) mode centres; None for a continuous shape
    extent: tuple[float, float] = (-3.0, 3.0)  # the square the page draws

    @property
    def radius(self) -> float:
        """A point within 3 std of a mode (or of the data) counts as a "high quality" sample."""
        return 3.0 * self.std


TOYS: Registry[Toy] = Registry("distribution")


def _mixture(centres: np.ndarray, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    c = torch.as_tensor(centres, dtype=torch.float32)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(c), (n,), generator=gen)
        return c[idx] + std * torch.randn(n, 2, generator=gen)

    return sample


def _ring_centres(k: int = 8, r: float = 2.0) -> np.ndarray:
    a = 2 * np.pi * np.arange(k) / k
    return np.stack([r * np.cos(a), r * np.sin(a)], 1)


def _grid_centres(k: int = 5, spacing: float = 1.0) -> np.ndarray:
    v = (np.arange(k) - (k - 1) / 2) * spacing
    return np.stack(np.meshgrid(v, v), -1).reshape(-1, 2)


MOONS_STD, SPIRAL_STD = 0.06, 0.06


def _moons(n: int, gen: torch.Generator) -> torch.Tensor:
    """Two interleaved half circles (scikit-learn's make_moons), centred and scaled by 1.6."""
    theta = math.pi * torch.rand(n, generator=gen)
    lower = torch.rand(n, generator=gen) < 0.5
    x = torch.where(lower, 1 - torch.cos(theta), torch.cos(theta))
    y = torch.where(lower, 0.5 - torch.sin(theta), torch.sin(theta))
    pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.6
    return pts + MOONS_STD * torch.randn(n, 2, generator=gen)


def _spiral(n: int, gen: torch.Generator) -> torch.Tensor:
    """One arm turning 1.75 times, radius 0.3 to 2.5, points spread evenly along its length."""
    t = torch.sqrt(torch.rand(n, generator=gen))
    theta, r = 3.5 * math.pi * t, 0.3 + 2.2 * t
    pts = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1)
    return pts + SPIRAL_STD * torch.randn(n, 2, generator=gen)


RING_STD, GRID_STD = 0.1, 0.05
TOYS.add("ring", Toy(_mixture(_ring_centres(), RING_STD), "8 Gaussians on a circle of radius 2",
                     RING_STD, _ring_centres()))
TOYS.add("grid", Toy(_mixture(_grid_centres(), GRID_STD), "25 Gaussians on a 5 x 5 grid, spacing 1",
                     GRID_STD, _grid_centres()))
TOYS.add("moons", Toy(_moons, "Two interleaved half moons (no separate modes)", MOONS_STD))
TOYS.add("spiral", Toy(_spiral, "A spiral arm (no separate modes)", SPIRAL_STD))


# ---- mode counting -------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    covered: int  # modes with at least the minimum number of points near them
    n_modes: int
    counts: np.ndarray  # (M,) points within the radius of each mode
    high_quality: float  # share of all points within the radius of some mode
    threshold: int  # the minimum count that was applied


def modes_covered(points: Any, centres: Any, radius: float, min_count: int | float = 0.01) -> Coverage:
    """Count the modes the points cover: a mode is covered when at least `min_count` points lie
    within `radius` of its centre. An int `min_count` is a number of points; a float below 1 is
    a share of all points (0.01: 1 %, at least one point). Mode collapse shows as `covered`
    falling while `high_quality` (the share of points near some mode) stays high."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    if isinstance(min_count, float) and 0 < min_count < 1:
        threshold = max(1, math.ceil(min_count * len(pts)))
    elif min_count >= 1:
        threshold = int(min_count)
    else:
        raise BadValue(f"min_count must be a count >= 1 or a share in (0, 1), got {min_count}")
    if len(pts) == 0 or len(c) == 0:
        return Coverage(0, len(c), np.zeros(len(c), dtype=np.int64), 0.0, threshold)
    d2 = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(-1)  # (N, M)
    near = d2 <= radius ** 2
    counts = near.sum(0).astype(np.int64)
    return Coverage(int((counts >= threshold).sum()), len(c), counts, float(near.any(1).mean()), threshold)


def near_data_share(points: Any, reference: Any, radius: float) -> float:
    """The share of points within `radius` of some reference data point: the "high quality"
    share for a shape without separate modes (moons, spiral)."""
    pts = torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2)
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32)).reshape(-1, 2)
    if len(pts) == 0 or len(ref) == 0:
        return 0.0
    return float((torch.cdist(pts, ref).min(1).values <= radius).float().mean())

"""The truncation trick, two ways: scale a latent towards the mean (StyleGAN's psi) or draw
every value outside a threshold again (BigGAN's), and `Truncated`, a generator that truncates
its input first, which is what the measured truncation curve samples through.

Resampling draws from its own seeded `torch.Generator` (never the global RNG: a job may be
training in the same process), so a view is repeatable."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
from torch import nn

from ganlib.core.errors import BadValue
from ganlib.explore.latent.inputs import as_latents

TRUNCATION_METHODS = {
    "scale": "Scale towards the mean (z·ψ)",
    "resample": "Resample |zᵢ| above a threshold",
}
# StyleGAN's psi in W (`G(z, labels, psi=...)`): only for generators with a mapping network, so
# kept apart from the methods the latent explorer offers for every run.
W_METHOD = {"w": "Scale w towards the mean w (StyleGAN's ψ in W)"}
RESAMPLE_SEED = 0  # the draws that replace truncated values, so a view is repeatable


def check_method(method: str) -> None:
    if method not in TRUNCATION_METHODS and method not in W_METHOD:
        raise BadValue(f"truncation method must be one of {', '.join(TRUNCATION_METHODS)}, got {method!r}")


def truncate(z: np.ndarray, psi: float, mean: Optional[np.ndarray] = None) -> np.ndarray:
    """Scale towards the mean of z's distribution (0 for N(0, I)): `mean + psi * (z - mean)`.
    psi = 1 is the identity; smaller psi trades variety for typical, cleaner samples."""
    z = np.asarray(z, np.float32)
    if psi == 1.0:
        return z.copy()
    m = np.zeros_like(z) if mean is None else np.asarray(mean, np.float32)
    return (m + np.float32(psi) * (z - m)).astype(np.float32)


def truncate_resample_t(z: torch.Tensor, threshold: float, generator: torch.Generator,
                        max_rounds: int = 100) -> torch.Tensor:
    """BigGAN's truncation trick: every value with |z_i| > threshold is drawn again from
    N(0, 1) until it falls inside (a threshold of inf is the identity)."""
    if not math.isfinite(threshold):
        return z.clone()
    if threshold <= 0:
        raise BadValue(f"the truncation threshold must be positive, got {threshold}")
    z = z.clone()
    for _ in range(max_rounds):
        bad = z.abs() > threshold
        if not bad.any():
            return z
        z[bad] = torch.randn(int(bad.sum()), generator=generator).to(z.dtype)
    return z.clamp(-threshold, threshold)  # a tiny threshold: the last few are clipped


def truncate_resample(z: np.ndarray, threshold: float, seed: int = RESAMPLE_SEED) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    return truncate_resample_t(as_latents(z), threshold, gen).numpy().reshape(np.shape(z))


def apply_truncation(z: np.ndarray, method: str = "scale", value: float = 1.0, seed: int = RESAMPLE_SEED) -> np.ndarray:
    """`method` "scale" (value = psi in [0, 1]) or "resample" (value = threshold, inf = off)."""
    if method == "scale":
        return truncate(z, value)
    if method == "resample":
        return truncate_resample(z, value, seed)
    raise BadValue(f"truncation method must be one of {', '.join(TRUNCATION_METHODS)}, got {method!r}")


class Truncated(nn.Module):
    """A generator whose input is truncated first: `Truncated(G, "scale", 0.7)(z, y)`.
    What `evaluate` samples through to measure a truncation curve."""

    def __init__(self, G: nn.Module, method: str, value: float, seed: int = RESAMPLE_SEED):
        super().__init__()
        check_method(method)
        self.G, self.method, self.value, self.seed = G, method, float(value), seed
        self.train(G.training)  # a fresh module is in training mode; G (cached) must stay as it is

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.method == "w":
            return self.G(z, labels, psi=self.value)
        if self.method == "scale":
            z = z * self.value
        else:
            z = truncate_resample_t(z, self.value, torch.Generator(device=z.device).manual_seed(self.seed))
        return self.G(z, labels)

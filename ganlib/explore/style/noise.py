"""Stochastic variation: one fixed w, the noise images of chosen layers drawn again for each
sample, and the per-pixel standard deviation over the samples (the StyleGAN paper's figure 4):
noise at coarse layers moves larger structures, at fine layers only the stroke edges."""
from __future__ import annotations

from typing import Sequence

import torch

from ganlib.core.errors import BadValue
from ganlib.explore.style.styles import broadcast, fixed_noise, seeds_w, synthesize
from ganlib.models.handle import GeneratorHandle


@torch.no_grad()
def resample_noise(h: GeneratorHandle, seed: int, layers: Sequence[int], n: int = 8, noise_seed: int = 0,
                   psi: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(n samples, their per-pixel std (1, C, H, W)): seed's w for all, the noise of `layers`
    drawn afresh per sample (from `noise_seed`), every other layer's noise fixed."""
    if n < 2:
        raise BadValue(f"draw at least 2 samples to see a spread, got {n}")
    G = h.G
    bad = [i for i in layers if not 0 <= int(i) < G.num_ws]
    if bad:
        raise BadValue(f"layer {bad[0]} does not exist: the generator has layers 0 to {G.num_ws - 1}")
    noise = fixed_noise(h, n, noise_seed)
    g = torch.Generator().manual_seed(int(noise_seed) + 1)
    for i in layers:
        noise[int(i)] = torch.randn(noise[int(i)].shape, generator=g)
    ws = broadcast(seeds_w(h, [seed], psi).expand(n, -1), G.num_ws)
    x = synthesize(h, ws, noise)
    return x, x.float().std(0, keepdim=True)


def std_map_image(std: torch.Tensor) -> torch.Tensor:
    """The std map in [-1, 1] for display: black where noise changes nothing, white at its largest."""
    top = float(std.max())
    return std / top * 2 - 1 if top > 0 else torch.full_like(std, -1.0)

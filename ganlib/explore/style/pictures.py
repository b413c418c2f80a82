"""The Style explorer's pictures from a run and plain values (seeds, names, numbers), as PIL
images, so the page holds no torch. Each takes the run and its checkpoint (None = the latest)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from PIL import Image

from ganlib.core.images import grid_image
from ganlib.explore.style.noise import resample_noise, std_map_image
from ganlib.explore.style.paths import interpolate_z_w
from ganlib.explore.style.styles import style_handle, style_mix_grid
from ganlib.store.run_folder import Run

SCALE = 3


def layer_names(run: str | Path | Run, checkpoint: Optional[str] = None) -> list[str]:
    """One name per style layer, coarsest first: "7x7 (1)", "7x7 (2)", "14x14 (1)", ..."""
    G = style_handle(run, checkpoint).G
    return [f"{s}x{s} ({j + 1})" for s in G.sizes for j in range(2)]


def mixing_picture(run, checkpoint, rows: Sequence[int], cols: Sequence[int], crossover: str,
                   psi: float = 1.0) -> Image.Image:
    images, ncol = style_mix_grid(style_handle(run, checkpoint), rows, cols, crossover, psi)
    return grid_image(images, nrow=ncol, scale=SCALE)


def noise_pictures(run, checkpoint, seed: int, layers: Sequence[int], n: int = 8, noise_seed: int = 0,
                   psi: float = 1.0) -> tuple[Image.Image, Image.Image]:
    """(the samples in one row, their per-pixel std map, white where the noise matters most)."""
    x, std = resample_noise(style_handle(run, checkpoint), seed, layers, n, noise_seed, psi)
    return grid_image(x, nrow=n, scale=SCALE), grid_image(std_map_image(std), nrow=1, scale=SCALE)


def interpolation_pictures(run, checkpoint, seed_a: int, seed_b: int, steps: int = 8,
                           psi: float = 1.0) -> tuple[Image.Image, Image.Image]:
    """(the walk in Z, the walk in W), one row each."""
    z_row, w_row = interpolate_z_w(style_handle(run, checkpoint), seed_a, seed_b, steps, psi)
    return grid_image(z_row, nrow=steps, scale=SCALE), grid_image(w_row, nrow=steps, scale=SCALE)

"""Sampling trained generators: grids, label choices, latent walks. Pages and the CLI call this.

Every draw uses its own `torch.Generator`, never the global RNG: the dashboard samples while a
job trains in the same process, and touching the global RNG would change that job's run.
Results come back as numpy arrays and PIL images so that pages need not import torch.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue
from ganlib.core.images import gif_bytes, grid_image, png_bytes, to_uint8
from ganlib.models.handle import GeneratorHandle
from ganlib.store.checkpoints import find_checkpoint, load_handle
from ganlib.store.config import TrainConfig, with_changes
from ganlib.store.run_folder import Run, find_run


@dataclass
class Samples:
    images: np.ndarray  # uint8 (N, C, H, W)
    labels: Optional[np.ndarray]  # int64 (N,) or None
    nrow: int
    grid: Image.Image
    seed: int = 0  # the seed drawn, so a random draw can be repeated

    def png(self) -> bytes:
        return png_bytes(self.grid)

    def npz(self) -> bytes:
        """`images` as N x H x W for grayscale, else N x C x H x W, and `labels` (-1 if none)."""
        imgs = self.images[:, 0] if self.images.shape[1] == 1 else self.images
        labels = self.labels if self.labels is not None else np.full(len(imgs), -1, dtype=np.int64)
        buf = io.BytesIO()
        np.savez_compressed(buf, images=imgs, labels=labels)
        return buf.getvalue()


@lru_cache(maxsize=4)
def _cached_handle(path: str, mtime: float, device: str) -> GeneratorHandle:
    return load_handle(path, device)


def get_generator(run: str | Path | Run, checkpoint: str | Path | None = None, device: str = "cpu") -> GeneratorHandle:
    """The run's generator handle (eval mode); cached until the checkpoint file changes."""
    run = run if isinstance(run, Run) else find_run(run)
    path = find_checkpoint(run, checkpoint)
    return _cached_handle(str(path), os.path.getmtime(path), device)


def with_sampler(h: GeneratorHandle, steps: Optional[int] = None, guidance: Optional[float] = None
                 ) -> GeneratorHandle:
    """`h` drawing with these sampler settings (a diffusion run's Euler steps and guidance scale;
    None keeps the run's own). They are checked as the run's config would check them (ranges,
    guidance needing label dropout), so a bad value is a ConfigError naming the field; a GAN or
    VAE, which draws in one pass, refuses them with a ValueError."""
    if steps is None and guidance is None:
        return h
    changes = {k: v for k, v in (("sample_steps", steps), ("guidance", guidance)) if v is not None}
    if h.config:  # an imported run without its config still gets the handle's own check
        with_changes(TrainConfig.from_dict(h.config), changes, "fork")
    return h.with_sampling(steps=steps, guidance=guidance)


def random_seed() -> int:
    """A fresh seed for "Random seed" buttons, shown so that the draw can be repeated."""
    return int(np.random.SeedSequence().entropy % 2**31)


def generate(run: str | Path | Run, n: int = 64, *, seed: Optional[int] = None,
             labels: int | Sequence[int] | None = None, checkpoint: str | Path | None = None,
             nrow: Optional[int] = None, device: str = "cpu", scale: int = 2, steps: Optional[int] = None,
             guidance: Optional[float] = None) -> Samples:
    """`n` samples. For conditional models `labels` is one class for all, or one per sample;
    None cycles through the classes. `seed=None` draws a fresh random seed. `steps` and
    `guidance` set a diffusion run's sampler (`with_sampler`)."""
    if n < 1 or n > 4096:
        raise BadValue(f"n must be between 1 and 4096, got {n}")
    h = with_sampler(get_generator(run, checkpoint, device), steps, guidance)
    seed = random_seed() if seed is None else seed
    y = h.labels(labels, n)
    x = h.decode(h.latents(n, seed), y)
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    return Samples(to_uint8(x), y.cpu().numpy() if y is not None else None, nrow,
                   grid_image(x, nrow, scale=scale), seed)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle; the norm is interpolated linearly so
    that two Gaussian latents of different length stay on the shell where G was trained."""
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    cos = (ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    close = so.abs() < 1e-5  # parallel vectors: fall back to lerp of directions
    w_a = torch.where(close, 1 - t, torch.sin((1 - t) * omega) / so.where(~close, torch.ones_like(so)))
    w_b = torch.where(close, t, torch.sin(t * omega) / so.where(~close, torch.ones_like(so)))
    u = w_a * ua + w_b * ub
    u = u / u.norm(dim=-1, keepdim=True).clamp_min(eps)
    return u * lerp(na, nb, t)


@dataclass
class Walk:
    frames: list[Image.Image]  # one image per step
    strip: Image.Image

    def gif(self, duration_ms: int = 120) -> bytes:
        return gif_bytes(self.frames, duration_ms)

    def strip_png(self) -> bytes:
        return png_bytes(self.strip)


def latent_walk(run: str | Path | Run, seed_a: int, seed_b: int, steps: int = 10, *, mode: str = "slerp",
                label_a: Optional[int] = None, label_b: Optional[int] = None,
                checkpoint: str | Path | None = None, device: str = "cpu", scale: int = 4,
                sample_steps: Optional[int] = None, guidance: Optional[float] = None) -> Walk:
    """Interpolate from seed_a's latent to seed_b's; for conditional models the label
    embedding is blended too, so a 3 can morph into an 8. A diffusion run's latent is its
    initial noise; `sample_steps` and `guidance` set its sampler (`with_sampler`)."""
    if steps < 2 or steps > 256:
        raise BadValue(f"steps must be between 2 and 256, got {steps}")
    if mode not in ("linear", "slerp"):
        raise BadValue(f"mode must be linear or slerp, got {mode!r}")
    h = with_sampler(get_generator(run, checkpoint, device), sample_steps, guidance)
    za, zb = h.latents(1, seed_a).cpu(), h.latents(1, seed_b).cpu()
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    z = (slerp if mode == "slerp" else lerp)(za, zb, t).to(device)
    with torch.no_grad():
        if h.conditional:
            ya = h.labels(0 if label_a is None else label_a, 1)
            yb = h.labels(0 if label_b is None else label_b, 1)
            ea, eb = h.G.embed(ya), h.G.embed(yb)
            x = h.G.forward_embedded(z, lerp(ea, eb, t.to(device)), **h.sampling)
        else:
            x = h.decode(z)
    frames = [grid_image(x[i:i + 1], nrow=1, padding=0, scale=scale) for i in range(steps)]
    return Walk(frames, grid_image(x, nrow=steps, scale=scale))

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

from ganlib.store.checkpoints import choose_checkpoint, load_generator
from ganlib.core.images import gif_bytes, grid_image, png_bytes, to_uint8
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


@dataclass
class GeneratorInfo:
    conditional: bool
    num_classes: int
    class_names: list[str]
    latent_dim: int
    epoch: int
    checkpoint: str


@lru_cache(maxsize=4)
def _cached_generator(path: str, mtime: float, device: str):
    G, ck = load_generator(path, device)
    cfg = ck["config"]
    from ganlib.models import MODELS

    info = GeneratorInfo(MODELS.get(cfg["model"]).conditional, int(ck.get("num_classes", 10)),
                         list(ck.get("class_names") or []), int(cfg["latent_dim"]), int(ck["epoch"]), path)
    return G, info


def get_generator(run: str | Path | Run, checkpoint: str | Path | None = None, device: str = "cpu"):
    """The run's generator (eval mode) and its info; cached until the checkpoint file changes."""
    run = run if isinstance(run, Run) else find_run(run)
    path = choose_checkpoint(run, checkpoint)
    return _cached_generator(str(path), os.path.getmtime(path), device)


def latents(seed: int, n: int, dim: int) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(int(seed)))


def generate(run: str | Path | Run, n: int = 64, *, seed: Optional[int] = None,
             labels: int | Sequence[int] | None = None, checkpoint: str | Path | None = None,
             nrow: Optional[int] = None, device: str = "cpu", scale: int = 2) -> Samples:
    """`n` samples. For conditional models `labels` is one class for all, or one per sample;
    None cycles through the classes. `seed=None` draws a fresh random seed."""
    if n < 1 or n > 4096:
        raise ValueError(f"n must be between 1 and 4096, got {n}")
    G, info = get_generator(run, checkpoint, device)
    seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else seed
    z = latents(seed, n, info.latent_dim).to(device)
    y = None
    if info.conditional:
        y = class_labels(labels, n, info.num_classes).to(device)
    elif labels is not None:
        raise ValueError("this run's generator is unconditional: it takes no label")
    with torch.no_grad():
        x = G(z, y)
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    return Samples(to_uint8(x), y.cpu().numpy() if y is not None else None, nrow,
                   grid_image(x, nrow, scale=scale), seed)


def class_labels(labels: int | Sequence[int] | None, n: int, num_classes: int) -> torch.Tensor:
    if labels is None:
        t = torch.arange(n) % num_classes
    elif isinstance(labels, (int, np.integer)):
        t = torch.full((n,), int(labels))
    else:
        t = torch.as_tensor(list(labels), dtype=torch.int64)
        if len(t) != n:
            raise ValueError(f"{len(t)} labels given for {n} samples")
    if (t < 0).any() or (t >= num_classes).any():
        raise ValueError(f"labels must be between 0 and {num_classes - 1}")
    return t.long()


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
                checkpoint: str | Path | None = None, device: str = "cpu", scale: int = 4) -> Walk:
    """Interpolate from seed_a's latent to seed_b's; for conditional models the label
    embedding is blended too, so a 3 can morph into an 8."""
    if steps < 2 or steps > 256:
        raise ValueError(f"steps must be between 2 and 256, got {steps}")
    if mode not in ("linear", "slerp"):
        raise ValueError(f"mode must be linear or slerp, got {mode!r}")
    G, info = get_generator(run, checkpoint, device)
    za, zb = latents(seed_a, 1, info.latent_dim), latents(seed_b, 1, info.latent_dim)
    t = torch.linspace(0, 1, steps).unsqueeze(1)
    z = (slerp if mode == "slerp" else lerp)(za, zb, t).to(device)
    with torch.no_grad():
        if info.conditional:
            ya = class_labels(0 if label_a is None else label_a, 1, info.num_classes).to(device)
            yb = class_labels(0 if label_b is None else label_b, 1, info.num_classes).to(device)
            ea, eb = G.embed(ya), G.embed(yb)
            x = G.forward_embedded(z, lerp(ea, eb, t.to(device)))
        else:
            x = G(z, None)
    frames = [grid_image(x[i:i + 1], nrow=1, padding=0, scale=scale) for i in range(steps)]
    return Walk(frames, grid_image(x, nrow=steps, scale=scale))

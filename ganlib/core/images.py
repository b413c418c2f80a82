"""Image tensors in [-1, 1] to grids, PNG bytes and animated GIFs: what pages show and download."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from ganlib.core.atomic import atomic_write_bytes


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> uint8 (N, C, H, W)."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round()
    return x.to(torch.uint8).cpu().numpy()


def grid_image(images: torch.Tensor, nrow: int = 8, padding: int = 2, scale: int = 1,
               pad_value: float = 1.0) -> Image.Image:
    """A grid of images as a PIL image; `scale` enlarges small digits without blurring them;
    `pad_value` (0 black .. 1 white) is the colour between the tiles."""
    g = tile(images.detach().float().cpu().clamp(-1, 1).add(1).div(2), nrow, padding, pad_value)
    arr = g.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    im = Image.fromarray(arr[..., 0] if images.shape[1] == 1 else arr)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
    return im


def tile(images: torch.Tensor, nrow: int = 8, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """(N, C, H, W) -> one (C, H', W') image, `nrow` tiles a row, laid out as torchvision's
    `make_grid` does (tested equal to it, one image included): importing torchvision takes
    1-1.5 s, which every page and command that draws a grid would wait for."""
    n, c, h, w = images.shape
    if n == 1:
        return images[0]
    cols = min(nrow, n)
    rows = -(-n // cols)
    out = images.new_full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for k in range(n):
        top, left = (k // cols) * (h + padding) + padding, (k % cols) * (w + padding) + padding
        out[:, top:top + h, left:left + w] = images[k]
    return out


def png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    return atomic_write_bytes(path, png_bytes(grid_image(images, nrow)))


def gif_bytes(frames: Sequence[Image.Image], duration_ms: int = 120, bounce: bool = True) -> bytes:
    """An animated GIF that loops; `bounce` plays forward then back, as latent walks read best."""
    frames = list(frames)
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return buf.getvalue()

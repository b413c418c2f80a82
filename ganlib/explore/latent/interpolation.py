"""Between latents and between classes: a 2-D grid spanned by four corner latents, and a
class morph that blends two label embeddings for fixed latents."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue
from ganlib.core.images import grid_image
from ganlib.explore.latent.inputs import as_latents, as_run
from ganlib.explore.latent.rendering import decode, render
from ganlib.explore.latent.truncation import apply_truncation
from ganlib.explore.sampling import get_generator, lerp, slerp
from ganlib.store.run_folder import Run

GRID_MODES = {"slerp": "Spherical (slerp down the edges, then along rows)", "linear": "Bilinear"}


def corner_grid(corners: Any, rows: int, cols: int, mode: str = "slerp") -> np.ndarray:
    """Latents (rows, cols, d) filling the rectangle spanned by four corners, given as
    [top-left, top-right, bottom-left, bottom-right]. "linear" is bilinear interpolation;
    "slerp" interpolates spherically down the left and right edges, then along each row.
    The four corners come back exactly."""
    if mode not in GRID_MODES:
        raise BadValue(f"mode must be one of {', '.join(GRID_MODES)}, got {mode!r}")
    if rows < 2 or cols < 2:
        raise BadValue(f"the grid needs at least 2 rows and 2 columns, got {rows} x {cols}")
    c = torch.as_tensor(np.asarray(corners, np.float64))
    if c.dim() != 2 or c.shape[0] != 4:
        raise BadValue(f"give four corner latents (4, d), got shape {tuple(c.shape)}")
    f = slerp if mode == "slerp" else lerp
    tr = torch.linspace(0, 1, rows, dtype=torch.float64).unsqueeze(1)
    tc = torch.linspace(0, 1, cols, dtype=torch.float64).unsqueeze(1)
    left, right = f(c[0:1], c[2:3], tr), f(c[1:2], c[3:4], tr)  # (rows, d) each
    grid = torch.stack([f(left[i:i + 1], right[i:i + 1], tc) for i in range(rows)])  # (rows, cols, d)
    out = grid.numpy().astype(np.float32)
    src = np.asarray(corners, np.float32)
    out[0, 0], out[0, -1], out[-1, 0], out[-1, -1] = src[0], src[1], src[2], src[3]
    return out


def render_corner_grid(run: str | Path | Run, corners: Any, rows: int = 5, cols: int = 5, *, mode: str = "slerp",
                       label: Optional[int] = None, checkpoint: str | Path | None = None,
                       truncation: tuple[str, float] = ("scale", 1.0), scale: int = 2) -> Image.Image:
    g = corner_grid(corners, rows, cols, mode)
    z = apply_truncation(g.reshape(rows * cols, -1), *truncation)
    return render(run, z, label=label, checkpoint=checkpoint, nrow=cols, scale=scale)


@torch.no_grad()
def class_morph(run: str | Path | Run, z: Any, label_a: int, label_b: int, steps: int = 8, *,
                checkpoint: str | Path | None = None, scale: int = 3) -> list[Image.Image]:
    """For each latent in `z` (m, d), the class blended from `label_a` to `label_b` in `steps`
    by interpolating the two label embeddings (`G.forward_embedded`): one strip per latent."""
    if steps < 2:
        raise BadValue(f"a morph needs at least 2 steps, got {steps}")
    h = get_generator(as_run(run), checkpoint)
    if not h.conditional or not hasattr(h.G, "forward_embedded"):
        raise BadValue("this run's generator is unconditional: it has no class to morph")
    for lab in (label_a, label_b):
        if not 0 <= int(lab) < h.num_classes:
            raise BadValue(f"labels must be between 0 and {h.num_classes - 1}")
    zt = as_latents(z)
    ea, eb = h.G.embed(h.labels(int(label_a), 1)), h.G.embed(h.labels(int(label_b), 1))
    t = torch.linspace(0, 1, steps, device=h.device).unsqueeze(1)
    emb = lerp(ea, eb, t)  # (steps, E)
    strips = []
    for row in zt:
        x = decode(h, row.expand(steps, -1), embedding=emb)
        strips.append(grid_image(x, nrow=steps, scale=scale))
    return strips

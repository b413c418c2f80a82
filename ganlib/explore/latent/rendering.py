"""Latents to pictures: `decode` to image tensors, `render` to one grid image, `render_each`
to one image per latent. The generator comes from `sampling.get_generator` (cached per
checkpoint file), so every view of a run shares one loaded model."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import torch
from PIL import Image

from ganlib.core.images import grid_image
from ganlib.explore.latent.inputs import as_latents, as_run
from ganlib.explore.sampling import get_generator
from ganlib.models.handle import GeneratorHandle
from ganlib.store.run_folder import Run


@torch.no_grad()
def decode(h: GeneratorHandle, z: Any, *, label: Optional[int | Sequence[int]] = None,
           embedding: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Images in [-1, 1] for latents `z` (m, d). Conditional generators take one label for all
    (default 0), one per latent, or label embeddings to pass to `forward_embedded` (a class morph)."""
    zt = as_latents(z).to(h.device)
    if embedding is not None:
        return h.G.forward_embedded(zt, embedding.to(h.device), **h.sampling)
    y = h.labels(0 if label is None else label, len(zt)) if h.conditional else None
    return h.decode(zt, y)


def render(run: str | Path | Run, z: Any, *, label: Optional[int | Sequence[int]] = None,
           checkpoint: str | Path | None = None, nrow: Optional[int] = None, scale: int = 3) -> Image.Image:
    """Latents (m, d) as one grid image (`nrow` per row, default all in one row)."""
    h = get_generator(as_run(run), checkpoint)
    x = decode(h, z, label=label)
    return grid_image(x, nrow=nrow or len(x), scale=scale)


def render_each(run: str | Path | Run, z: Any, *, label: Optional[int | Sequence[int]] = None,
                checkpoint: str | Path | None = None, scale: int = 3) -> list[Image.Image]:
    """One image per latent (for pickers with a caption under each)."""
    h = get_generator(as_run(run), checkpoint)
    x = decode(h, z, label=label)
    return [grid_image(x[i:i + 1], nrow=1, padding=0, scale=scale) for i in range(len(x))]

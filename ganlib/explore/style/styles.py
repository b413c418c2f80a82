"""Styles: a StyleGAN run's generator, its w's per layer, and the style-mixing grid of the
StyleGAN paper's figure 3 (rows from one set of seeds, columns from another, the columns'
styles at the coarse, middle or fine layers). Every draw comes from its own seeded generator,
and eval-mode noise is the generator's own fixed draw, so a picture is repeatable."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from ganlib.core.errors import BadValue
from ganlib.explore.latent.inputs import as_run
from ganlib.explore.sampling import get_generator
from ganlib.models.handle import GeneratorHandle, seeded_latents
from ganlib.store.run_folder import Run

CROSSOVERS = {"coarse": "coarse (lowest sizes: pose, shape)", "middle": "middle (strokes)",
              "fine": "fine (highest size: texture, thickness)"}


def style_handle(run: str | Path | Run, checkpoint: str | Path | None = None) -> GeneratorHandle:
    """The run's generator, refused (ValueError naming the model) unless it is a StyleGAN."""
    run = as_run(run)
    h = get_generator(run, checkpoint)
    if not hasattr(h.G, "synthesis"):
        raise BadValue(f"run {run.name} trains {run.config().model}; the Style explorer needs a stylegan run")
    return h


def level_layers(G: torch.nn.Module) -> list[list[int]]:
    """The style layers of each size, coarsest first (two per size)."""
    return [[2 * k, 2 * k + 1] for k in range(len(G.sizes))]


def crossover_layers(G: torch.nn.Module, crossover: str) -> list[int]:
    """The layers that take the second w: the sizes split in three (coarse, middle, fine)."""
    if crossover not in CROSSOVERS:
        raise BadValue(f"crossover must be one of {', '.join(CROSSOVERS)}, got {crossover!r}")
    levels = level_layers(G)
    parts = np.array_split(np.arange(len(levels)), 3)
    chosen = parts[list(CROSSOVERS).index(crossover)]
    if len(chosen) == 0:  # fewer than three sizes: the coarse and fine ends still exist
        chosen = parts[0] if crossover == "coarse" else np.array([len(levels) - 1])
    return [i for k in chosen for i in levels[int(k)]]


@torch.no_grad()
def w_of(h: GeneratorHandle, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
    """Each latent's w (truncated towards the mean w by psi), (n, w_dim)."""
    G = h.G
    return G.truncate(G.mapping(z.to(h.device)), psi)


def broadcast(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    return w[:, None].expand(-1, num_ws, -1).clone()


def mix_ws(ws_a: torch.Tensor, ws_b: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """ws_a with the given layers taken from ws_b: exactly those, nothing else."""
    out = ws_a.clone()
    idx = torch.as_tensor(list(layers), dtype=torch.long)
    out[:, idx] = ws_b[:, idx]
    return out


def fixed_noise(h: GeneratorHandle, n: int, seed: int = 0) -> list[torch.Tensor]:
    """One noise image per layer, the same for all `n` samples, from its own generator: pictures
    that differ only in their styles."""
    g = torch.Generator().manual_seed(int(seed))
    return [torch.randn((1, *s[1:]), generator=g).expand(n, -1, -1, -1).clone() for s in h.G.noise_shapes(1)]


@torch.no_grad()
def synthesize(h: GeneratorHandle, ws: torch.Tensor, noise: Optional[list] = None) -> torch.Tensor:
    G = h.G
    was = G.training
    G.eval()
    try:
        return G.synthesis(ws.to(h.device), noise)
    finally:
        G.train(was)


def seeds_w(h: GeneratorHandle, seeds: Sequence[int], psi: float = 1.0) -> torch.Tensor:
    """One w per seed: the latent `seeded_latents(seed, 1)` every page draws for that seed."""
    z = torch.cat([seeded_latents(int(s), 1, h.latent_dim) for s in seeds])
    return w_of(h, z, psi)


@torch.no_grad()
def style_mix_grid(h: GeneratorHandle, row_seeds: Sequence[int], col_seeds: Sequence[int], crossover: str,
                   psi: float = 1.0) -> tuple[torch.Tensor, int]:
    """(images, columns) of the mixing figure: the top row holds the column seeds' own images
    (after a blank corner), each next row starts with its row seed's own image, and cell (r, c)
    is row r's styles with column c's at the crossover layers."""
    if not row_seeds or not col_seeds:
        raise BadValue("give at least one row seed and one column seed")
    G, L = h.G, h.G.num_ws
    layers = crossover_layers(G, crossover)
    w_rows, w_cols = seeds_w(h, row_seeds, psi), seeds_w(h, col_seeds, psi)
    R, C = len(row_seeds), len(col_seeds)
    cols = synthesize(h, broadcast(w_cols, L), fixed_noise(h, C))
    rows = synthesize(h, broadcast(w_rows, L), fixed_noise(h, R))
    ws_a = broadcast(w_rows, L).repeat_interleave(C, 0)
    ws_b = broadcast(w_cols, L).repeat(R, 1, 1)
    mixed = synthesize(h, mix_ws(ws_a, ws_b, layers), fixed_noise(h, R * C)).view(R, C, *cols.shape[1:])
    blank = torch.ones_like(cols[:1])  # white corner
    top = torch.cat([blank, cols])
    body = torch.cat([rows[:, None], mixed], 1).reshape(-1, *cols.shape[1:])
    return torch.cat([top, body]), C + 1

"""Memorisation check: each generated sample's nearest training sample and its L2 distance.

A GAN can score well on FID by reproducing training images. Showing every generated sample
next to its nearest training image, sorted by distance (`closest_pairs`), is the usual check.
Distances are taken in whatever space the caller passes: pixels (flattened images) catch
near-copies, feature space catches copies that moved by a few pixels.

The search runs in (generated chunk x training chunk) blocks on the generated samples'
device, keeping a running minimum, so neither 60,000 training images nor their distance matrix
need to fit at once; training chunks move to the device as needed. The winning pair's distance
is then recomputed directly as |g - t| in float64, so an exact copy has distance exactly 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite
from ganlib.metrics.precision_recall import DEFAULT_MAX_ELEMS, pairwise_sq_dists


@dataclass(frozen=True)
class NearestTraining:
    distances: torch.Tensor  # (N_gen,) float64 L2 distance to the nearest training sample
    indices: torch.Tensor  # (N_gen,) int64 index of that training sample

    def closest_pairs(self, k: int) -> list[tuple[int, int, float]]:
        """The k (generated index, training index, distance) pairs with the smallest distance."""
        k = min(k, self.distances.numel())
        order = torch.argsort(self.distances, stable=True)[:k].tolist()
        idx = self.indices.tolist()
        dist = self.distances.tolist()
        return [(g, idx[g], dist[g]) for g in order]


def nearest_training(gen: torch.Tensor, train: torch.Tensor, max_elems: int = DEFAULT_MAX_ELEMS,
                     train_chunk: int = 8192) -> NearestTraining:
    """Nearest training sample (L2) of each generated sample. Inputs (N, ...) are flattened;
    `train` may live on another device (e.g. a CPU dataset, GPU samples)."""
    dev = gen.device
    g = require_finite(gen.detach(), "generated samples").reshape(gen.shape[0], -1).to(torch.float64)
    t_all = require_finite(train.detach(), "training samples").reshape(train.shape[0], -1)
    if g.shape[1] != t_all.shape[1]:
        raise BadValue(f"generated and training samples differ in size: {g.shape[1]} vs {t_all.shape[1]}")
    if t_all.shape[0] == 0:
        raise BadValue("no training samples")
    train_chunk = max(1, min(train_chunk, t_all.shape[0]))
    gen_rows = max(1, max_elems // train_chunk)
    best_d = torch.empty(g.shape[0], dtype=torch.float64, device=dev)
    best_i = torch.empty(g.shape[0], dtype=torch.int64, device=dev)
    for gs in range(0, g.shape[0], gen_rows):
        gc = g[gs:gs + gen_rows]
        run_d = torch.full((gc.shape[0],), float("inf"), dtype=torch.float64, device=dev)
        run_i = torch.zeros(gc.shape[0], dtype=torch.int64, device=dev)
        for ts in range(0, t_all.shape[0], train_chunk):
            tc = t_all[ts:ts + train_chunk].to(device=dev, dtype=torch.float64)
            d, i = pairwise_sq_dists(gc, tc).min(dim=1)
            better = d < run_d  # strict: ties keep the lower training index
            run_d = torch.where(better, d, run_d)
            run_i = torch.where(better, i + ts, run_i)
        best_i[gs:gs + gc.shape[0]] = run_i
        nearest = t_all[run_i.to(t_all.device)].to(device=dev, dtype=torch.float64)
        best_d[gs:gs + gc.shape[0]] = (gc - nearest).norm(dim=1)
    return NearestTraining(best_d, best_i)

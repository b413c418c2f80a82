"""Improved precision and recall (Kynkäänniemi et al. 2019), k = 3.

FID folds quality and coverage into one number; these two separate them. Each set's manifold
is approximated by the union of hyperspheres around its samples, each sphere's radius being
the distance to that sample's k-th nearest neighbour within its own set (itself excluded).

    precision = share of generated samples inside at least one real sphere   (quality)
    recall    = share of real samples inside at least one generated sphere    (coverage)

A mode-collapsed GAN keeps precision high while recall drops. As in the paper and
torch-fidelity's `prc`, "inside" means distance <= radius.

All distances come in row chunks of an (N, M) squared-distance matrix, computed as
|x|^2 + |y|^2 - 2 x.y with a matmul on the features' device, so 10k x 10k in 2048-d stays
within `max_elems` (default 2^25 floats, 256 MiB in float64) at a time. Float64 by default:
in float32 the expansion's rounding error reaches a few 1e-4 of |x|^2, enough to move samples
across a sphere's boundary.
"""
from __future__ import annotations

from typing import Iterator, Optional

import torch

from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite

DEFAULT_MAX_ELEMS = 1 << 25


def pairwise_sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(n, m) squared Euclidean distances between rows of x and y (same dtype and device).

    Never negative; values below the expansion's rounding error (dim * eps * (|x|^2 + |y|^2))
    are set to exactly 0, so duplicates are at distance 0 whatever their norm. A NaN stays NaN
    (the metrics refuse non-finite features before they get here).
    """
    x2 = (x * x).sum(dim=1, keepdim=True)
    y2 = (y * y).sum(dim=1).unsqueeze(0)
    scale = x2 + y2
    d = scale - 2 * (x @ y.T)
    tol = x.shape[1] * torch.finfo(x.dtype).eps
    return torch.where(d <= tol * scale, torch.zeros_like(d), d)


def _row_chunks(x: torch.Tensor, n_cols: int, max_elems: int) -> Iterator[tuple[int, torch.Tensor]]:
    rows = max(1, max_elems // max(n_cols, 1))
    for start in range(0, x.shape[0], rows):
        yield start, x[start:start + rows]


def knn_sq_radii(feats: torch.Tensor, k: int = 3, max_elems: int = DEFAULT_MAX_ELEMS) -> torch.Tensor:
    """(N,) squared distance from each row to its k-th nearest other row of `feats`."""
    n = feats.shape[0]
    if n <= k:
        raise BadValue(f"k={k} nearest neighbours need more than {k} samples, got {n}")
    out = torch.empty(n, dtype=feats.dtype, device=feats.device)
    for start, chunk in _row_chunks(feats, n, max_elems):
        d = pairwise_sq_dists(chunk, feats)
        # Column k of the sorted row: index 0 is the sample itself (distance 0, or a duplicate's).
        out[start:start + chunk.shape[0]] = d.topk(k + 1, dim=1, largest=False).values[:, k]
    return out


def share_inside(query: torch.Tensor, ref: torch.Tensor, ref_sq_radii: torch.Tensor,
                 max_elems: int = DEFAULT_MAX_ELEMS) -> float:
    """Share of `query` rows within distance <= radius of at least one `ref` row."""
    inside = 0
    for _, chunk in _row_chunks(query, ref.shape[0], max_elems):
        inside += int((pairwise_sq_dists(chunk, ref) <= ref_sq_radii.unsqueeze(0)).any(dim=1).sum())
    return inside / query.shape[0]


def precision_recall(real_feats: torch.Tensor, gen_feats: torch.Tensor, k: int = 3,
                     max_elems: int = DEFAULT_MAX_ELEMS,
                     dtype: Optional[torch.dtype] = torch.float64) -> tuple[float, float]:
    """(precision, recall) of generated features against real ones, both (N, d).

    Runs on `real_feats`' device; `dtype` None keeps the inputs' dtype (float32: faster, less exact).
    """
    if real_feats.ndim != 2 or gen_feats.ndim != 2 or real_feats.shape[1] != gen_feats.shape[1]:
        raise BadValue(f"need (N, d) features of equal d, got {tuple(real_feats.shape)} and {tuple(gen_feats.shape)}")
    dtype = dtype or real_feats.dtype
    real = require_finite(real_feats.detach(), "real features").to(dtype)
    gen = require_finite(gen_feats.detach(), "generated features").to(device=real.device, dtype=dtype)
    precision = share_inside(gen, real, knn_sq_radii(real, k, max_elems), max_elems)
    recall = share_inside(real, gen, knn_sq_radii(gen, k, max_elems), max_elems)
    return precision, recall

"""Latents from seeds, moves along directions, and the DCGAN paper's latent arithmetic
(means of picked groups, added and subtracted)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ganlib.core.errors import BadValue
from ganlib.models.handle import seeded_latents


def seed_latent(seed: int, dim: int) -> np.ndarray:
    """The latent the rest of the workbench draws for `seed` (as Generate and Latent walk)."""
    return seeded_latents(int(seed), 1, dim)[0].numpy()


def seed_latents(seeds: Sequence[int], dim: int) -> np.ndarray:
    return np.stack([seed_latent(s, dim) for s in seeds]) if len(seeds) else np.zeros((0, dim), np.float32)


def move(z: np.ndarray, directions: Any, coeffs: Sequence[float]) -> np.ndarray:
    """`z + sum_i coeffs[i] * direction_i`; coefficients are in units of z's standard deviation.
    `directions` is a `Directions` (its `vectors` are used) or an array of row vectors."""
    vecs = np.asarray(getattr(directions, "vectors", directions))
    c = np.asarray(list(coeffs), dtype=np.float64)
    if len(c) > len(vecs):
        raise BadValue(f"{len(c)} coefficients for {len(vecs)} directions")
    return (np.asarray(z, np.float64) + c @ vecs[:len(c)].astype(np.float64)).astype(np.float32)


def latent_mean(zs: Any) -> np.ndarray:
    a = np.asarray(zs, np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise BadValue("pick at least one sample to average")
    return a.mean(0)


def combine_means(terms: Sequence[tuple[float, Any]]) -> np.ndarray:
    """sum_i weight_i * mean(group_i); empty groups are left out (but not all of them)."""
    used = [(w, g) for w, g in terms if len(g)]
    if not used:
        raise BadValue("pick at least one sample")
    return sum(w * latent_mean(g) for w, g in used).astype(np.float32)


def latent_arithmetic(a: Any, b: Any = (), c: Any = ()) -> np.ndarray:
    """mean(A) - mean(B) + mean(C), the DCGAN paper's vector arithmetic (e.g. smiling woman -
    neutral woman + neutral man). B and C may be empty; A may not."""
    if not len(a):
        raise BadValue("group A needs at least one sample")
    return combine_means([(1.0, a), (-1.0, b), (1.0, c)])

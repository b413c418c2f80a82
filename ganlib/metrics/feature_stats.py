"""Running mean and covariance of features, their .npz files and a disk cache of them.

FID needs only (mu, sigma) of each feature set, so features are folded into float64 running
sums batch by batch and memory stays O(dim^2) whatever N is: 50,000 Inception features never
sit in memory at once. The sums are taken around a shift (the first batch's mean) so that
features with a large common offset lose no digits to cancellation in sum(x x^T) - n mu mu^T.

Files use pytorch-fid's .npz keys `mu` and `sigma`, plus `n`, so a statistic written here can
be read by pytorch-fid and one of theirs read here. Dataset statistics are costly (a pass over
the whole training set through Inception), so `cached_stats` keeps them on disk under a sha256
of what they depend on (dataset, extractor, N, preprocessing), written atomically: a crash
leaves either no file or a whole one, never a half-written cache that poisons later runs.

    stats = RunningStats(2048, device)
    for images in loader:
        stats.update(extractor.features(images))
    stats.to_npz("cifar10_train_inception.npz")
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ganlib.core.atomic import atomic_write_bytes, atomic_write_text
from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite


class RunningStats:
    """Mean and unbiased (N-1) covariance of (B, dim) feature batches, accumulated in float64."""

    def __init__(self, dim: int, device: torch.device | str = "cpu"):
        if dim < 1:
            raise BadValue(f"feature dim must be >= 1, got {dim}")
        self.dim = dim
        self.device = torch.device(device)
        self.n = 0
        self._shift: Optional[torch.Tensor] = None  # (dim,) subtracted before summing
        self._sum = torch.zeros(dim, dtype=torch.float64, device=self.device)  # sum (x - shift)
        self._outer = torch.zeros(dim, dim, dtype=torch.float64, device=self.device)  # sum (x-s)(x-s)^T
        self._fixed: Optional[tuple[torch.Tensor, torch.Tensor]] = None  # (mu, sigma) read without n

    def update(self, feats: torch.Tensor) -> "RunningStats":
        """Fold in a (B, dim) batch of features (any float dtype, any device)."""
        if feats.ndim != 2 or feats.shape[1] != self.dim:
            raise BadValue(f"expected (B, {self.dim}) features, got {tuple(feats.shape)}")
        if self._fixed is not None:
            raise BadValue("statistics read without a sample count `n` cannot be updated")
        if feats.shape[0] == 0:
            return self
        x = require_finite(feats.detach().to(self.device, torch.float64))
        if self._shift is None:
            self._shift = x.mean(dim=0)
        x = x - self._shift
        self._sum += x.sum(dim=0)
        self._outer += x.T @ x
        self.n += x.shape[0]
        return self

    @property
    def mean(self) -> torch.Tensor:
        """(dim,) float64 mean."""
        if self._fixed is not None:
            return self._fixed[0]
        if self.n < 1:
            raise BadValue("no features accumulated")
        return self._shift + self._sum / self.n

    @property
    def cov(self) -> torch.Tensor:
        """(dim, dim) float64 unbiased covariance (divides by N-1, as numpy.cov and pytorch-fid)."""
        if self._fixed is not None:
            return self._fixed[1]
        if self.n < 2:
            raise BadValue(f"covariance needs at least 2 samples, have {self.n}")
        centred_sum = torch.outer(self._sum, self._sum) / self.n
        cov = (self._outer - centred_sum) / (self.n - 1)
        return (cov + cov.T) / 2  # exactly symmetric for eigh

    def to_npz(self, path: str | Path) -> Path:
        """Write `mu`, `sigma` (float64, pytorch-fid's keys) and `n`, atomically."""
        buf = io.BytesIO()
        np.savez(buf, mu=self.mean.cpu().numpy(), sigma=self.cov.cpu().numpy(), n=np.int64(self.n))
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def from_npz(cls, path: str | Path, device: torch.device | str = "cpu") -> "RunningStats":
        """Read a file written by `to_npz` (or by pytorch-fid, which stores no `n`: then n = 0,
        `mean`/`cov` still work but `update` refuses, as the sums cannot be rebuilt)."""
        with np.load(path) as f:
            mu = np.asarray(f["mu"], dtype=np.float64).reshape(-1)
            sigma = np.asarray(f["sigma"], dtype=np.float64)
            n = int(f["n"]) if "n" in f.files else 0
        return cls.from_moments(mu, sigma, n, device)

    @classmethod
    def from_moments(cls, mu, sigma, n: int, device: torch.device | str = "cpu") -> "RunningStats":
        """Rebuild the running sums from (mu, sigma, n); later updates combine exactly."""
        mu_t = torch.as_tensor(mu, dtype=torch.float64).reshape(-1)
        sigma_t = torch.as_tensor(sigma, dtype=torch.float64)
        dim = mu_t.numel()
        if sigma_t.shape != (dim, dim):
            raise BadValue(f"sigma has shape {tuple(sigma_t.shape)}, expected ({dim}, {dim})")
        stats = cls(dim, device)
        stats._shift = mu_t.to(stats.device)
        if n >= 2:
            stats.n = n
            stats._outer = sigma_t.to(stats.device) * (n - 1)
        else:  # sample count unknown: keep the moments themselves
            stats.n = 0
            stats._fixed = (stats._shift, sigma_t.to(stats.device))
        return stats


def cache_key_hash(key: dict) -> str:
    """sha256 of the key's canonical JSON (sorted keys): equal keys, equal file names."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_stats(key: dict, compute: Callable[[], RunningStats], cache_dir: str | Path,
                 device: torch.device | str = "cpu") -> RunningStats:
    """Statistics for `key` (e.g. dataset, extractor, N, preprocessing) from
    `cache_dir/<sha256>.npz`, or `compute()`d and written there atomically on a miss.

    The key must be JSON-serialisable: anything the statistics depend on belongs in it. A
    `<sha256>.json` beside the file records the key for whoever looks in the folder.
    """
    cache_dir = Path(cache_dir)
    digest = cache_key_hash(key)
    path = cache_dir / f"{digest}.npz"
    if path.exists():
        try:
            return RunningStats.from_npz(path, device)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # unreadable (e.g. written by an incompatible version): recompute below
    stats = compute()
    stats.to_npz(path)
    atomic_write_text(cache_dir / f"{digest}.json", json.dumps(key, sort_keys=True, indent=1))
    if stats.device != torch.device(device):
        return RunningStats.from_npz(path, device)
    return stats

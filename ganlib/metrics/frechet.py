"""Fréchet distance between Gaussians fitted to two feature sets (FID when the features are
Inception's), its bootstrap spread, and the sample-size warning.

    FID = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2)

pytorch-fid takes tr sqrt(S1 S2) from `scipy.linalg.sqrtm` of the non-symmetric product S1 S2:
slow (a complex Schur form, CPU only), and on rank-deficient covariances it returns complex
parts, NaN or a trace large enough to make FID negative: seed 000 reported a negative FID from
128 samples in 2048-d. Here the same trace comes from symmetric eigenproblems only:

    S1 S2 is similar to S1^1/2 S2 S1^1/2, which is symmetric PSD, so
    tr sqrt(S1 S2) = sum_i sqrt(lambda_i(S1^1/2 S2 S1^1/2)),

with S1^1/2 from `eigh` of S1. Eigenvalues that are zero up to rounding (|lambda| below
dim * eps * lambda_max) are set to exactly zero, so the null space of a rank-deficient
covariance adds nothing rather than sqrt(rounding noise). Everything runs in float64 on the
tensors' device (two `eigh` of dim x dim: fast on a GPU, and on CPU faster than sqrtm).

An FID value depends on N (it is biased upward, by roughly O(dim / N)); compare values only at
equal N and extractor, and below N = dim the covariance is singular: `sample_size_warning`.
"""
from __future__ import annotations

import math
import warnings
from typing import Optional, Sequence

import numpy as np
import torch

from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]


def _device_of(*xs: object) -> torch.device:
    for x in xs:
        if isinstance(x, torch.Tensor):
            return x.device
    return torch.device("cpu")


def _f64(x: ArrayLike, device: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(device=device, dtype=torch.float64)
    return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)


def _null_threshold(evals: torch.Tensor) -> torch.Tensor:
    """Eigenvalues below this are zero up to rounding: dim * eps * largest magnitude."""
    eps = torch.finfo(evals.dtype).eps
    return evals.abs().max() * evals.numel() * eps


def psd_sqrt(sigma: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a (float64) PSD matrix via eigh; negative rounding noise -> 0."""
    sym = (sigma + sigma.T) / 2
    evals, evecs = torch.linalg.eigh(sym)
    evals = torch.where(evals > _null_threshold(evals), evals, torch.zeros_like(evals))
    return (evecs * evals.sqrt()) @ evecs.T


def trace_sqrt_product(sigma1_sqrt: torch.Tensor, sigma2: torch.Tensor) -> torch.Tensor:
    """tr sqrt(S1 S2) = sum sqrt(eigvalsh(S1^1/2 S2 S1^1/2)), given S1^1/2 (float64 scalar)."""
    m = sigma1_sqrt @ sigma2 @ sigma1_sqrt
    m = (m + m.T) / 2
    evals = torch.linalg.eigvalsh(m)
    evals = torch.where(evals > _null_threshold(evals), evals, torch.zeros_like(evals))
    return evals.sqrt().sum()


def _check_moments(mu: torch.Tensor, sigma: torch.Tensor, which: str) -> tuple[torch.Tensor, torch.Tensor]:
    mu = mu.reshape(-1)
    d = mu.numel()
    if sigma.ndim == 0 and d == 1:
        sigma = sigma.reshape(1, 1)
    if sigma.shape != (d, d):
        raise BadValue(f"sigma{which} has shape {tuple(sigma.shape)}, expected ({d}, {d})")
    return require_finite(mu, f"mu{which}"), require_finite(sigma, f"sigma{which}")


def _finish(diff_sq: torch.Tensor, tr1: torch.Tensor, tr2: torch.Tensor, tr_covmean: torch.Tensor) -> float:
    """Assemble FID, clamp rounding-level negatives to 0 and warn about real ones."""
    fid = float(diff_sq + tr1 - 2 * tr_covmean + tr2)
    if fid < 0:
        scale = float(diff_sq + tr1 + tr2)
        if fid < -1e-6 * max(scale, 1e-300):
            warnings.warn(f"Fréchet distance came out clearly negative ({fid:.6g}, scale {scale:.6g}): "
                          "the covariances are probably not symmetric PSD; reporting 0", RuntimeWarning, stacklevel=2)
        fid = 0.0
    return fid


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); numpy or torch inputs.

    Computed in float64 on the device of the first torch input (CPU for numpy inputs). Never
    NaN (non-finite inputs raise) and never negative: rounding-level negatives become 0, and
    a clearly negative value (only possible for non-PSD input) warns before becoming 0.
    """
    dev = _device_of(mu1, sigma1, mu2, sigma2)
    m1, s1 = _check_moments(_f64(mu1, dev), _f64(sigma1, dev), "1")
    m2, s2 = _check_moments(_f64(mu2, dev), _f64(sigma2, dev), "2")
    if m1.numel() != m2.numel():
        raise BadValue(f"feature dims differ: {m1.numel()} vs {m2.numel()}")
    s1 = (s1 + s1.T) / 2
    s2 = (s2 + s2.T) / 2
    diff = m1 - m2
    tr_covmean = trace_sqrt_product(psd_sqrt(s1), s2)
    return _finish(diff @ diff, torch.trace(s1), torch.trace(s2), tr_covmean)


def sample_size_warning(n: int, dim: int) -> Optional[str]:
    """A message when N samples cannot give a full-rank dim x dim covariance (N < dim), else None."""
    if n < dim:
        return (f"FID from N={n} samples of {dim}-d features: the covariance has rank at most "
                f"{max(n - 1, 0)} < {dim}, so the value is dominated by estimation bias and not "
                f"comparable to published FIDs (use N >= {dim}; papers use N = 50,000)")
    return None


def mean_cov(feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """float64 mean and unbiased covariance of (N, dim) features, on their device."""
    x = require_finite(feats.detach()).to(torch.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise BadValue(f"need (N >= 2, dim) features, got {tuple(x.shape)}")
    mu = x.mean(dim=0)
    xc = x - mu
    return mu, (xc.T @ xc) / (x.shape[0] - 1)


def fid_from_features(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """FID between two (N, dim) feature sets; warns (UserWarning) when either N < dim."""
    for f in (f1, f2):
        msg = sample_size_warning(f.shape[0], f.shape[1])
        if msg:
            warnings.warn(msg, UserWarning, stacklevel=2)
    mu1, s1 = mean_cov(f1)
    mu2, s2 = mean_cov(f2.to(f1.device))
    return frechet_distance(mu1, s1, mu2, s2)


def fid_bootstrap(gen_feats: torch.Tensor, real_mu: ArrayLike, real_sigma: ArrayLike, n_boot: int = 10,
                  generator: Optional[torch.Generator] = None) -> tuple[float, float, list[float]]:
    """FID of `n_boot` resamples (with replacement) of the generated features against fixed real
    statistics: (mean, std, values), std with N-1. For the live uncertainty band.

    The real side is fixed (cached dataset statistics), so its S^1/2 is computed once and each
    resample costs one (N, dim) gather, one covariance matmul and one eigvalsh. Duplicates in a
    resample shrink its effective size, so bootstrap values sit a little above the FID of the
    full set: show the spread around the point estimate, not the bootstrap mean as the FID.
    `generator` (CPU or on the features' device) makes the band reproducible; default seed 0.
    """
    if n_boot < 2:
        raise BadValue("n_boot must be >= 2 for a spread")
    dev = gen_feats.device
    x = require_finite(gen_feats.detach(), "generated features").to(torch.float64)
    n, d = x.shape
    rm, rs = _check_moments(_f64(real_mu, dev), _f64(real_sigma, dev), " (real)")
    if rm.numel() != d:
        raise BadValue(f"feature dims differ: {d} vs {rm.numel()}")
    rs = (rs + rs.T) / 2
    rs_sqrt = psd_sqrt(rs)
    tr_real = torch.trace(rs)
    x = x - x.mean(dim=0)  # centre once; the shift cancels in covariances, added back to means
    shift = gen_feats.detach().to(torch.float64).mean(dim=0) - rm
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    values: list[float] = []
    for _ in range(n_boot):
        idx = torch.randint(n, (n,), generator=generator, device=generator.device).to(dev)
        xb = x[idx]
        mb = xb.mean(dim=0)
        xb = xb - mb
        sb = (xb.T @ xb) / (n - 1)
        diff = shift + mb
        values.append(_finish(diff @ diff, torch.trace(sb), tr_real, trace_sqrt_product(rs_sqrt, sb)))
    mean = sum(values) / n_boot
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n_boot - 1))
    return mean, std, values

"""Class coverage of generated samples: the mode-collapse alarm for labelled datasets.

A classifier (the extractor's head, e.g. an MNIST net) labels every generated sample; the
histogram of those labels is compared with the real one. A collapsing GAN drops classes long
before FID says so plainly, so two numbers are reported:

- `classes_covered`: how many classes get at least `min_share` (default 10%) of the samples
  they should get. The expected share is 1/K (or the real data's share when a real histogram
  is given, for imbalanced datasets). 10% of the expected share is far below what sampling
  noise removes (with N = 1000 and K = 10 a class expects 100 samples and needs 10), yet a
  class the generator has all but abandoned does not count.
- `class_kl`: KL(gen || real) between the label distributions, in nats. 0 when the generated
  labels match the real proportions; log K when everything collapses onto one class of a
  balanced K-class set. Both histograms are normalised and mixed with the uniform distribution
  with weight `eps` (1e-6) so a class with no real samples gives a large, finite value.
"""
from __future__ import annotations

from typing import Optional

import torch

from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite

DEFAULT_MIN_SHARE = 0.1


def class_histogram(pred_labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(num_classes,) int64 counts of predicted labels; (N,) labels or (N, K) logits/probs (argmax)."""
    labels = require_finite(pred_labels.detach(), "predictions")
    if labels.ndim == 2:
        labels = labels.argmax(dim=1)
    labels = labels.reshape(-1).long()
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise BadValue(f"labels must lie in [0, {num_classes}), got [{int(labels.min())}, {int(labels.max())}]")
    return torch.bincount(labels, minlength=num_classes)


def covered_mask(gen_hist: torch.Tensor, min_share: float = DEFAULT_MIN_SHARE,
                 real_hist: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(K,) bool: class c is covered when count_c >= min_share * N * expected_share_c (and > 0)."""
    counts = require_finite(gen_hist.detach(), "class histogram").to(torch.float64)
    k = counts.numel()
    if real_hist is None:
        expected = torch.full_like(counts, 1.0 / k)
    else:
        real = real_hist.detach().to(device=counts.device, dtype=torch.float64)
        expected = real / real.sum()
    return (counts >= min_share * counts.sum() * expected) & (counts > 0)


def classes_covered(pred_labels: torch.Tensor, num_classes: int, min_share: float = DEFAULT_MIN_SHARE,
                    real_hist: Optional[torch.Tensor] = None) -> int:
    """Number of classes getting at least `min_share` of their expected share of the samples."""
    return int(covered_mask(class_histogram(pred_labels, num_classes), min_share, real_hist).sum())


def class_kl(gen_hist: torch.Tensor, real_hist: torch.Tensor, eps: float = 1e-6) -> float:
    """KL(gen || real) in nats between two class histograms (counts or shares), smoothed to be finite."""
    p = require_finite(gen_hist.detach(), "generated class histogram").to(torch.float64)
    q = require_finite(real_hist.detach(), "real class histogram").to(device=p.device, dtype=torch.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise BadValue(f"need two (K,) histograms, got {tuple(p.shape)} and {tuple(q.shape)}")
    if (p < 0).any() or (q < 0).any() or p.sum() <= 0 or q.sum() <= 0:
        raise BadValue("histograms must be non-negative with a positive total")
    k = p.numel()
    p = (1 - eps) * p / p.sum() + eps / k
    q = (1 - eps) * q / q.sum() + eps / k
    return float((p * (p.log() - q.log())).sum())

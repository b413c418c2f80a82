"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), mean and std over splits.

High when each sample is classified confidently (low-entropy p(y|x)) and the classes are
spread out (high-entropy marginal p(y)); it ranges from 1 (every sample gets the same
prediction) to K (confident predictions spread evenly over K classes). It looks only at the
generated samples, never at the real data, so it cannot see memorisation or wrong class looks.

As torch-fidelity's `isc`: float64, the marginal p(y) is taken per split, the N samples are cut
into `splits` contiguous chunks after a seeded shuffle, and the std is numpy's (ddof=0). The
shuffle matters here: a conditional GAN emits samples class by class, and unshuffled splits of
class-sorted samples each see only a few classes.

`kind="auto"` takes the input for probabilities when every entry lies in [0, 1] and every row
sums to 1 within PROBS_SUM_TOL. The tolerance is loose on purpose: probabilities computed or
stored in bfloat16 (unit roundoff 2^-8) have rows off by up to ~4e-3 (2e-3 seen on Inception's
1008 classes), and read as logits they give an IS of about 1 instead of the true score. Logits
that all lie in [0, 1] and sum to 1 within 1e-2 are as good as nonexistent.
"""
from __future__ import annotations

from typing import Literal, Optional

import torch

from ganlib.core.errors import BadValue
from ganlib.metrics.checks import require_finite

PROBS_SUM_TOL = 1e-2  # |row sum - 1| that `auto` still takes for probabilities: bf16 rounding passes


def _log_probs(x: torch.Tensor, kind: Literal["auto", "logits", "probs"]) -> torch.Tensor:
    """Row-wise log p(y|x) in float64; `auto` takes rows in [0, 1] summing to 1 as probabilities."""
    x = x.detach().to(torch.float64)
    if kind == "auto":
        rows_sum_to_one = bool(((x.sum(dim=1) - 1).abs() <= PROBS_SUM_TOL).all())
        kind = "probs" if bool((x >= 0).all() and (x <= 1).all()) and rows_sum_to_one else "logits"
    if kind == "logits":
        return torch.log_softmax(x, dim=1)
    if kind == "probs":
        p = x.clamp(min=0)
        return torch.log(p / p.sum(dim=1, keepdim=True))  # log 0 = -inf, masked out below
    raise BadValue(f"kind must be 'auto', 'logits' or 'probs', got {kind!r}")


def inception_score(logits_or_probs: torch.Tensor, splits: int = 10, kind: Literal["auto", "logits", "probs"] = "auto",
                    shuffle: bool = True, generator: Optional[torch.Generator] = None) -> tuple[float, float]:
    """(mean, std) of the Inception Score over `splits` chunks of the (N, K) predictions.

    `kind` says whether the input holds logits or probabilities; `auto` decides per call
    (probabilities: all entries in [0, 1] and rows summing to 1 within PROBS_SUM_TOL); NaN or
    inf entries raise ValueError. `generator` (default seeded 0)
    drives the shuffle.
    """
    if logits_or_probs.ndim != 2:
        raise BadValue(f"need (N, num_classes) predictions, got {tuple(logits_or_probs.shape)}")
    n = logits_or_probs.shape[0]
    if not 1 <= splits <= n:
        raise BadValue(f"splits must be in [1, N={n}], got {splits}")
    log_p = _log_probs(require_finite(logits_or_probs, "logits or probabilities"), kind)
    if shuffle:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        log_p = log_p[torch.randperm(n, generator=generator, device=generator.device).to(log_p.device)]
    p = log_p.exp()
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        p_chunk, log_p_chunk = p[lo:hi], log_p[lo:hi]
        log_marginal = torch.log(p_chunk.mean(dim=0, keepdim=True))
        # KL(p(y|x) || p(y)) = sum_y p (log p - log p(y)), with 0 log 0 = 0 (p(y) > 0 where p > 0).
        kl = torch.where(p_chunk > 0, p_chunk * (log_p_chunk - log_marginal), 0.0)
        scores.append(kl.sum(dim=1).mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(correction=0))

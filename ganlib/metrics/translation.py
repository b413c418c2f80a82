"""Metrics of an image-to-image translator on the held-out split of its data, each beside the
baseline that copies the input unchanged (what "did nothing" scores):

- L1 and PSNR against the target (on the [0, 1] pixel scale), SSIM (pytorch-msssim's, an 11 px
  Gaussian window, or the largest odd window that fits), where the split has paired targets;
- FID of the outputs against the target domain's held-out images (the run's extractor);
- content preservation: the shipped digit classifier's accuracy on the outputs against the
  source images' labels, where the data has labels (mnist-based tasks);
- for a CycleGAN (a generator with `back`), the cycle reconstruction error |G_BA(G_AB(a)) - a|.

`metric_registry.METRICS` names each `compute_*` below as its metric's compute for the
"translation" family; `evaluation.evaluate_generator` runs them on translation data (through
`evaluation.score_translation`), so the engine, the Evaluate page and the CLI share them.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import torch
from pytorch_msssim import ssim as ms_ssim
from torch import nn

from ganlib.metrics import FeatureExtractor
from ganlib.metrics.frechet import fid_from_features

PSNR_CAP_DB = 100.0  # an exact copy has infinite PSNR; a finite cap keeps the rows plottable


@torch.no_grad()
def translate(G: nn.Module, x: torch.Tensor, *, back: bool = False, chunk: int = 256) -> torch.Tensor:
    """G's outputs for `x` in eval mode (dropout off), chunk by chunk (`back`: a CycleGAN's way
    back, B -> A); G's mode is restored."""
    was = G.training
    G.eval()
    try:
        fn = G.back if back else G
        return torch.cat([fn(part.to(next(G.parameters()).device)) for part in x.split(chunk)])
    finally:
        G.train(was)


def l1(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean |a - b| of images in [-1, 1], on the [0, 1] pixel scale."""
    return ((a.float() - b.float()).abs().mean() / 2).item()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over images of 10 log10(1 / MSE) on the [0, 1] scale, each capped at PSNR_CAP_DB."""
    mse = ((a.float() - b.float()) / 2).square().flatten(1).mean(1)
    db = 10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CAP_DB / 10)))
    return db.mean().item()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM (Wang et al. 2004) of images in [-1, 1], from pytorch-msssim."""
    win = min(11, min(a.shape[-2:]) - (1 - min(a.shape[-2:]) % 2))
    return ms_ssim((a.float() + 1) / 2, (b.float() + 1) / 2, data_range=1.0, win_size=win).item()


def fid_or_nan(f1: torch.Tensor, f2: torch.Tensor) -> float:
    if min(len(f1), len(f2)) < 2:
        return math.nan
    with warnings.catch_warnings():  # a small held-out split: the caller says N
        warnings.simplefilter("ignore")
        return fid_from_features(f1, f2)


def accuracy(classifier: FeatureExtractor, x: torch.Tensor, labels: torch.Tensor) -> float:
    return (classifier.logits(x).argmax(1) == labels.to(x.device)).float().mean().item()


@dataclass
class TranslationInputs:
    """What the translation metrics are computed from: the held-out inputs `a`, the outputs, the
    target domain (the paired targets when `paired`), the extractor, and the digit classifier
    with the inputs' labels where the data has labels."""

    a: torch.Tensor
    out: torch.Tensor
    target: torch.Tensor
    paired: bool
    extractor: Optional[FeatureExtractor]  # None: no extractor fits the data, no FID
    classifier: Optional[FeatureExtractor] = None
    source_labels: Optional[torch.Tensor] = None
    back: Optional[torch.Tensor] = None  # a CycleGAN's outputs translated back (G_BA(G_AB(a)))

    @cached_property
    def target_features(self) -> torch.Tensor:
        return self.extractor.features(self.target)


def _with_copy(name: str, fn, x: TranslationInputs) -> dict[str, float]:
    """`name` of the outputs against the targets, and `name_copy` of the inputs copied unchanged."""
    if not x.paired:
        return {}
    return {name: fn(x.out, x.target), f"{name}_copy": fn(x.a, x.target)}


def compute_l1(x: TranslationInputs) -> dict[str, float]:
    return _with_copy("l1", l1, x)


def compute_psnr(x: TranslationInputs) -> dict[str, float]:
    return _with_copy("psnr", psnr, x)


def compute_ssim(x: TranslationInputs) -> dict[str, float]:
    return _with_copy("ssim", ssim, x)


def compute_fid(x: TranslationInputs) -> dict[str, float]:
    """FID of the outputs (and of the copied inputs) against the target domain's held-out images."""
    if x.extractor is None:
        return {}
    real = x.target_features
    return {"fid": fid_or_nan(real, x.extractor.features(x.out)),
            "fid_copy": fid_or_nan(real, x.extractor.features(x.a))}


def compute_content(x: TranslationInputs) -> dict[str, float]:
    if x.classifier is None or x.source_labels is None:
        return {}
    return {"content_acc": accuracy(x.classifier, x.out, x.source_labels),
            "content_acc_copy": accuracy(x.classifier, x.a, x.source_labels)}


def compute_cycle(x: TranslationInputs) -> dict[str, float]:
    return {} if x.back is None else {"cycle_l1": l1(x.back, x.a)}

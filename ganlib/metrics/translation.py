"""Metrics of an image-to-image translator on the held-out split of its data, each beside the
baseline that copies the input unchanged (what "did nothing" scores):

- L1 and PSNR against the target (on the [0, 1] pixel scale), SSIM (pytorch-msssim's, an 11 px
  Gaussian window, or the largest odd window that fits), where the split has paired targets;
- FID of the outputs against the target domain's held-out images (the run's extractor);
- content preservation: the shipped digit classifier's accuracy on the outputs against the
  source images' labels, where the data has labels (mnist-based tasks);
- for a CycleGAN (a generator with `back`), the cycle reconstruction error |G_BA(G_AB(a)) - a|.

`ganlib.metrics.pipeline.evaluate_generator` calls `evaluate_translation` for translation data,
so the engine, the Evaluate page and the CLI share it.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Optional

import torch
from pytorch_msssim import ssim as ms_ssim
from torch import nn

from ganlib.data import ImageData
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.checks import require_finite
from ganlib.metrics.evaluate import EvalResult
from ganlib.metrics.frechet import fid_from_features
from ganlib.metrics.reference import extractor_label
from ganlib.models.handle import GeneratorHandle

PSNR_CAP_DB = 100.0  # an exact copy has infinite PSNR; a finite cap keeps the rows plottable
SCORES = ("l1", "psnr", "ssim", "fid", "content_acc")  # each also as `<name>_copy`, the copy baseline
TRANSLATION_COLUMNS = SCORES + tuple(f"{k}_copy" for k in SCORES) + ("cycle_l1", "eval_n", "extractor", "eval_time_s")


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


def evaluate_translation(handle: GeneratorHandle, data: ImageData, extractor: FeatureExtractor, *,
                         classifier: Optional[FeatureExtractor] = None, n: Optional[int] = None) -> EvalResult:
    """The translation metric row of `handle.G` (source -> target) on `data.held_out` (the
    training split when there is none), at most `n` examples."""
    t0 = time.perf_counter()
    split = data.held_out if data.held_out is not None else data
    notes = [] if data.held_out is not None else ["the data has no held-out split: measured on training images"]
    k = min(split.source.shape[0], len(split)) if split.paired else split.source.shape[0]
    k = min(k, int(n)) if n else k
    a = split.source[:k]
    out = require_finite(translate(handle.G, a), "translated images")
    target_domain = split.images[:k] if split.paired else split.images
    row: dict[str, Any] = {name: math.nan for name in TRANSLATION_COLUMNS}
    if split.paired:
        b = split.images[:k]
        for name, fn in (("l1", l1), ("psnr", psnr), ("ssim", ssim)):
            row[name], row[f"{name}_copy"] = fn(out, b), fn(a, b)
    else:
        notes.append("the held-out split has no pairs: no L1, PSNR or SSIM against a target")
    real_f = extractor.features(target_domain)
    row["fid"] = fid_or_nan(real_f, extractor.features(out))
    row["fid_copy"] = fid_or_nan(real_f, extractor.features(a))
    if classifier is not None and split.source_labels is not None:
        row["content_acc"] = accuracy(classifier, out, split.source_labels[:k])
        row["content_acc_copy"] = accuracy(classifier, a, split.source_labels[:k])
    if hasattr(handle.G, "back"):
        row["cycle_l1"] = l1(translate(handle.G, out, back=True), a)
    row.update(eval_n=k, extractor=extractor_label(extractor), eval_time_s=time.perf_counter() - t0)
    return EvalResult(row, {"translation": True, "target_n": len(target_domain)}, notes)


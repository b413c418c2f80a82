"""One evaluation of a generator against real statistics: FID with a bootstrap std, KID, IS,
precision/recall and, for a classifier of the data's classes, class coverage, class KL and
label accuracy. `ganlib.metrics.pipeline.evaluate_generator` is the entry point that every
caller uses; this module holds the arithmetic.

Generated images are drawn from a fixed seed of their own, so two evaluations of one run differ
only by the generator, and the training RNG is never touched. Every result row names its
extractor and its N.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from ganlib.core import distributed
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.class_coverage import class_histogram, class_kl, classes_covered
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.frechet import fid_bootstrap, fid_from_features, frechet_distance, sample_size_warning
from ganlib.metrics.inception_score import inception_score
from ganlib.metrics.kid import kid, kid_subset_size
from ganlib.metrics.precision_recall import precision_recall
from ganlib.metrics.reference import RealReference, extractor_label
from ganlib.models.handle import GeneratorHandle

EVAL_SEED = 20_240_101
PR_MAX = 5000  # precision/recall use at most this many of each set: its cost is N^2 * dim

# Columns an evaluation adds to metrics.csv. fid_floor / kid_floor: real vs real at the same N
# (`reference.real_floor`), NaN when the reference was built without its floor.
EVAL_COLUMNS = ("fid", "fid_std", "kid", "kid_std", "is_mean", "is_std", "precision", "recall",
                "classes_covered", "class_kl", "label_acc", "fid_floor", "kid_floor", "eval_n", "extractor",
                "eval_time_s")


@torch.no_grad()
def generated_features(handle: GeneratorHandle, extractor: FeatureExtractor, n: int, *, device=None,
                       seed: int = EVAL_SEED, chunk: int = 500
                       ) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Features, logits and requested labels of `n` samples, generated and embedded chunk by
    chunk on the device (no host round trip). Conditional samples cycle through the classes.
    In a torchrun job the ranks embed the chunks round-robin and gather them: every rank still
    draws every chunk's noise, so the samples, and the metrics, do not depend on the world size."""
    device = torch.device(device) if device is not None else handle.device
    gen = torch.Generator(device=device).manual_seed(seed)
    feats, logits, labels, sizes = [], [], [], []
    for k, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        sizes.append(m)
        z = torch.randn(m, handle.latent_dim, device=device, generator=gen)
        y = (torch.arange(start, start + m, device=device) % handle.num_classes) if handle.conditional else None
        if y is not None:
            labels.append(y)
        if not distributed.mine(k):
            continue
        f, lg = extractor.features_and_logits(handle.decode(z, y))
        feats.append(f.float())
        if lg is not None:
            logits.append(lg.float())
    if distributed.active():
        has_logits = distributed.any_rank(bool(logits), device)
        feats = [distributed.gather_chunks(feats, sizes, device)]
        logits = [distributed.gather_chunks(logits, sizes, device)] if has_logits else []
    return (torch.cat(feats), torch.cat(logits) if logits else None, torch.cat(labels) if labels else None)


@dataclass
class EvalResult:
    row: dict[str, Any]  # scalar columns for metrics.csv (EVAL_COLUMNS)
    details: dict[str, Any] = field(default_factory=dict)  # per-class numbers, histograms
    warnings: list[str] = field(default_factory=list)


def evaluate(handle: GeneratorHandle, ref: RealReference, extractor: FeatureExtractor, *, n: int, device=None,
             n_boot: int = 10, kid_subsets: int = 100, seed: int = EVAL_SEED) -> EvalResult:
    """FID (with a bootstrap std), KID, IS, precision/recall, the real-vs-real floor when `ref`
    holds one and, where the extractor is a classifier of the data's classes, class coverage,
    class KL and (conditional) label accuracy."""
    t0 = time.perf_counter()
    notes: list[str] = []
    gf, logits, req = generated_features(handle, extractor, n, device=device, seed=seed)
    num_classes, conditional = handle.num_classes, handle.conditional
    stats = RunningStats(extractor.feature_dim, gf.device).update(gf)
    warn = sample_size_warning(n, extractor.feature_dim)
    if warn:
        notes.append(warn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fid = frechet_distance(ref.mu, ref.sigma, stats.mean, stats.cov)
        _, fid_std, _ = fid_bootstrap(gf, ref.mu, ref.sigma, n_boot=n_boot)
    kid_subset = kid_subset_size(n, ref.n)
    kid_mean, kid_std = kid(gf, ref.feats, n_subsets=kid_subsets, subset_size=kid_subset)
    m = min(PR_MAX, n, ref.n)
    precision, recall = precision_recall(ref.feats[:m], gf[:m], k=3)
    row: dict[str, Any] = {"fid": fid, "fid_std": fid_std, "kid": kid_mean, "kid_std": kid_std,
                           "is_mean": float("nan"), "is_std": float("nan"),
                           "precision": precision, "recall": recall,
                           "classes_covered": float("nan"), "class_kl": float("nan"), "label_acc": float("nan"),
                           "fid_floor": float("nan"), "kid_floor": float("nan"),
                           "eval_n": n, "extractor": extractor_label(extractor)}
    details: dict[str, Any] = {"pr_n": m, "kid_subset": kid_subset}
    if ref.floor is not None:
        row["fid_floor"], row["kid_floor"] = ref.floor.fid, ref.floor.kid
        details["floor_n"], details["kid_floor_std"] = ref.floor.n, ref.floor.kid_std
        if ref.floor.note:
            notes.append(ref.floor.note)
    if logits is not None:
        row["is_mean"], row["is_std"] = inception_score(logits, splits=10)
    is_data_classifier = logits is not None and ref.class_hist is not None and extractor.num_classes == num_classes
    if is_data_classifier:
        pred = logits.argmax(1)
        gen_hist = class_histogram(pred, num_classes)
        row["classes_covered"] = classes_covered(pred, num_classes, real_hist=ref.class_hist)
        row["class_kl"] = class_kl(gen_hist, ref.class_hist)
        details["gen_hist"] = gen_hist.tolist()
        details["real_hist"] = ref.class_hist.tolist()
        if req is not None:
            hit = (pred == req)
            row["label_acc"] = hit.float().mean().item()
            details["label_acc_per_class"] = [hit[req == c].float().mean().item() for c in range(num_classes)]
    if conditional and req is not None and ref.labels is not None:
        per = []
        with warnings.catch_warnings():  # one note below says it, instead of a warning per class
            warnings.simplefilter("ignore")
            for c in range(num_classes):
                g, r = gf[req == c], ref.feats[ref.labels == c]
                per.append(fid_from_features(r, g) if min(len(g), len(r)) > 1 else float("nan"))
        details["fid_per_class"] = per
        per_n = min(int((req == 0).sum()), int((ref.labels == 0).sum()))
        if per_n < extractor.feature_dim:
            notes.append(f"per-class FID uses about {per_n} samples per class for {extractor.feature_dim}-d "
                         "features: compare classes with each other, not with the overall FID")
    row["eval_time_s"] = time.perf_counter() - t0
    return EvalResult(row, details, notes)

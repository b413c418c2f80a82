"""One evaluation of a generator against its dataset: the engine (live, every K epochs), the CLI
(`python -m ganlib metrics`) and the Evaluate page all call `evaluate`.

Real-data statistics are computed once per (dataset, extractor, N, preprocessing) and cached on
disk, written atomically. Generated images are drawn from a fixed seed of their own, so two
evaluations of one run differ only by the generator, and the training RNG is never touched.
Every result row names its extractor and its N.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from ganlib.core.atomic import atomic_write_bytes
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor
from ganlib.metrics.class_coverage import class_histogram, class_kl, classes_covered
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.frechet import fid_bootstrap, fid_from_features, frechet_distance, sample_size_warning
from ganlib.metrics.inception_score import inception_score
from ganlib.metrics.kid import kid
from ganlib.metrics.precision_recall import precision_recall

PREPROCESSING_VERSION = 1  # bump when extractor preprocessing changes: old caches stop matching
DEFAULT_CACHE_DIR = Path(os.environ.get("GANLIB_CACHE_DIR", Path.home() / ".cache" / "ganlib" / "stats"))
EVAL_SEED = 20_240_101
PR_MAX = 5000  # precision/recall use at most this many of each set: its cost is N^2 * dim

# Columns an evaluation adds to metrics.csv.
EVAL_COLUMNS = ("fid", "fid_std", "kid", "kid_std", "is_mean", "is_std", "precision", "recall",
                "classes_covered", "class_kl", "label_acc", "eval_n", "extractor", "eval_time_s")


def resolve_extractor(name: str, channels: int, weights: str = "") -> tuple[str, str]:
    """`auto` means the digit classifier for grayscale data and Inception for colour. If the
    Inception weights cannot be had, fall back to the digit classifier and say how to get them."""
    if name == "auto":
        name = "digits" if channels == 1 else "inception"
    FEATURE_EXTRACTORS.get(name)  # unknown names fail here with the list of known ones
    if name == "inception":
        from ganlib.metrics.extractor_inception import find_inception_weights

        try:
            find_inception_weights(weights or None)  # finds (or downloads) the file; builds nothing
        except ExtractorUnavailable as e:
            return "digits", f"{e} Using the digit classifier ('digits') meanwhile."
    return name, ""


@lru_cache(maxsize=4)
def get_extractor(name: str, device: str = "cpu", weights: str = "") -> FeatureExtractor:
    """One loaded extractor per (name, device, weights) per process: never rebuilt per call
    (seed 000 rebuilt Inception at every epoch)."""
    factory = FEATURE_EXTRACTORS.get(name)
    ext = factory(device=device, weights=weights or None)
    ext.eval()
    return ext


def extractor_label(ext: FeatureExtractor) -> str:
    return f"{ext.name}{'' if getattr(ext, 'pretrained', True) else ' (random weights)'}"


# ---- real reference ---------------------------------------------------------------------
@dataclass
class RealReference:
    mu: torch.Tensor  # float64 (D,)
    sigma: torch.Tensor  # float64 (D, D)
    n: int
    feats: torch.Tensor  # float32 (n, D): KID, precision/recall and per-class FID need them
    labels: Optional[torch.Tensor]  # true labels of those images, or None
    class_hist: Optional[torch.Tensor]  # the classifier's predicted-class histogram of real data
    extractor: str

    def to(self, device) -> "RealReference":
        t = lambda x: None if x is None else x.to(device)  # noqa: E731
        return RealReference(t(self.mu), t(self.sigma), self.n, t(self.feats), t(self.labels),
                             t(self.class_hist), self.extractor)


DATA_FIELDS = ("dataset", "data_path", "channels", "image_size", "max_images")


def dataset_key(cfg: Any) -> dict[str, Any]:
    """What identifies a run's real images for the statistics cache: the engine, the Evaluate
    page and the latent explorer share cached statistics only if they build it the same way."""
    return {k: getattr(cfg, k) for k in DATA_FIELDS}


def reference_key(dataset: dict[str, Any], extractor: FeatureExtractor, n: int) -> dict[str, Any]:
    return {"dataset": dataset, "extractor": extractor_label(extractor), "n": int(n),
            "preprocessing": PREPROCESSING_VERSION}


def real_reference(images: torch.Tensor, labels: Optional[torch.Tensor], extractor: FeatureExtractor,
                   n: int, *, dataset_key: Optional[dict[str, Any]] = None,
                   cache_dir: str | Path | None = None) -> RealReference:
    """Statistics of the first `n` real images (the data is already shuffled), from the disk
    cache when `dataset_key` identifies the data. Mean and covariance are float64 running sums."""
    n = min(int(n), images.shape[0])
    device = images.device
    path = None
    if dataset_key is not None:
        key = reference_key(dataset_key, extractor, n)
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        path = Path(cache_dir or DEFAULT_CACHE_DIR) / f"real_{digest}.npz"
        if path.is_file():
            try:
                return _load_reference(path, device, extractor_label(extractor))
            except Exception:  # noqa: BLE001 - a corrupt cache is recomputed, not fatal
                pass
    stats = RunningStats(extractor.feature_dim, device)
    feats, hist = [], None
    for part in images[:n].split(1000):
        f, logits = extractor.features_and_logits(part)
        stats.update(f)
        feats.append(f.float())
        if logits is not None and extractor.num_classes <= 100:
            h = class_histogram(logits.argmax(1), extractor.num_classes).to(device)
            hist = h if hist is None else hist + h
    ref = RealReference(stats.mean, stats.cov, n, torch.cat(feats),
                        labels[:n] if labels is not None else None, hist, extractor_label(extractor))
    if path is not None:
        buf = io.BytesIO()
        np.savez(buf, mu=ref.mu.cpu().numpy(), sigma=ref.sigma.cpu().numpy(), n=n,
                 feats=ref.feats.cpu().numpy(),
                 labels=ref.labels.cpu().numpy() if ref.labels is not None else np.zeros(0, np.int64),
                 class_hist=hist.cpu().numpy() if hist is not None else np.zeros(0))
        atomic_write_bytes(path, buf.getvalue())
        atomic_write_bytes(path.with_suffix(".json"), json.dumps(key, indent=2).encode())
    return ref


def _load_reference(path: Path, device, label: str) -> RealReference:
    with np.load(path, allow_pickle=False) as z:
        t = lambda a: torch.from_numpy(np.array(a)).to(device)  # noqa: E731
        labels = t(z["labels"]) if z["labels"].size else None
        hist = t(z["class_hist"]) if z["class_hist"].size else None
        return RealReference(t(z["mu"]), t(z["sigma"]), int(z["n"]), t(z["feats"]), labels, hist, label)


# ---- generated samples ------------------------------------------------------------------
@torch.no_grad()
def generated_features(G: nn.Module, extractor: FeatureExtractor, n: int, *, latent_dim: int,
                       conditional: bool, num_classes: int, device, seed: int = EVAL_SEED,
                       chunk: int = 500) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Features, logits and requested labels of `n` samples, generated and embedded chunk by
    chunk on the device (no host round trip). Conditional samples cycle through the classes."""
    was_training = G.training
    G.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    feats, logits, labels = [], [], []
    try:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            z = torch.randn(m, latent_dim, device=device, generator=gen)
            y = (torch.arange(start, start + m, device=device) % num_classes) if conditional else None
            f, lg = extractor.features_and_logits(G(z, y))
            feats.append(f.float())
            if lg is not None:
                logits.append(lg.float())
            if y is not None:
                labels.append(y)
    finally:
        G.train(was_training)
    return (torch.cat(feats), torch.cat(logits) if logits else None, torch.cat(labels) if labels else None)


@dataclass
class EvalResult:
    row: dict[str, Any]  # scalar columns for metrics.csv (EVAL_COLUMNS)
    details: dict[str, Any] = field(default_factory=dict)  # per-class numbers, histograms
    warnings: list[str] = field(default_factory=list)


def evaluate(G: nn.Module, ref: RealReference, extractor: FeatureExtractor, *, n: int, latent_dim: int,
             conditional: bool = False, num_classes: int = 10, device="cpu", n_boot: int = 10,
             kid_subsets: int = 100, seed: int = EVAL_SEED) -> EvalResult:
    """FID (with a bootstrap std), KID, IS, precision/recall and, where the extractor is a
    classifier of the data's classes, class coverage, class KL and (conditional) label accuracy."""
    t0 = time.perf_counter()
    notes: list[str] = []
    gf, logits, req = generated_features(G, extractor, n, latent_dim=latent_dim, conditional=conditional,
                                         num_classes=num_classes, device=device, seed=seed)
    stats = RunningStats(extractor.feature_dim, device).update(gf)
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
                           "eval_n": n, "extractor": extractor_label(extractor)}
    details: dict[str, Any] = {"pr_n": m, "kid_subset": kid_subset}
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


def kid_subset_size(n_gen: int, n_real: int) -> int:
    """KID's subsets of 1,000 (Binkowski et al.); with 1,000 samples or fewer, half the set, so
    that the subsets differ and their standard deviation means something."""
    n = min(n_gen, n_real)
    return 1000 if n > 1000 else max(2, n // 2)


def collapse_alarm(rows: list[dict[str, Any]]) -> Optional[str]:
    """Seeds 002 and 004's mode-collapse signs, from the evaluated rows of metrics.csv:
    fewer classes covered than before, or recall falling while precision rises."""
    ev = [r for r in rows if finite_or_none(r.get("fid")) is not None]
    if len(ev) < 2:
        return None
    last, prev = ev[-1], ev[-2]
    cc = [finite_or_none(r.get("classes_covered")) for r in ev]
    if cc[-1] is not None and any(c is not None for c in cc[:-1]):
        best = max(c for c in cc[:-1] if c is not None)
        if cc[-1] < best:
            return (f"Mode collapse? Classes covered fell from {best:.0f} to {cc[-1]:.0f} "
                    f"at epoch {int(last['epoch'])}.")
    p0, p1, r0, r1 = (finite_or_none(prev.get("precision")), finite_or_none(last.get("precision")),
                      finite_or_none(prev.get("recall")), finite_or_none(last.get("recall")))
    if None not in (p0, p1, r0, r1) and r1 < r0 - 0.05 and p1 > p0:
        return (f"Mode collapse? Recall fell from {r0:.2f} to {r1:.2f} while precision rose from "
                f"{p0:.2f} to {p1:.2f} at epoch {int(last['epoch'])}: fewer kinds of samples, each more typical.")
    return None


def finite_or_none(v: Any) -> Optional[float]:
    """A metrics cell as a float, None when it is empty, non-numeric or NaN."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f

"""Statistics of a run's real images: computed once per (data, extractor, N, preprocessing),
cached on disk (written atomically) and in memory, and shared by the engine, the Evaluate
page, the explorers and the CLI, which all key the data with `ganlib.data.data_fields`.

With them, once, the floor of every FID/KID chart: real against real at the same N. The
reference is the data's first N images; the floor set is the next N, so the floor is what a
perfect generator (new samples of the data itself) would score at this N, extractor and data.
FID is biased upward by O(dim / N), so this, not 0, is the best a value can be. When the data
holds fewer than 2N images, the floor compares two disjoint halves at N' = len // 2, sitting a
little above the floor at N; `Floor.note` says so.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ganlib.core.atomic import atomic_write_bytes
from ganlib.data import READS_FILES, data_fields
from ganlib.data.pack import PACK_VERSION
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.class_coverage import class_histogram
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.frechet import frechet_distance, mean_cov
from ganlib.metrics.kid import kid, kid_subset_size

# Bump when extractor preprocessing or features change: old caches stop matching.
# 2: the digit features are standardised pre-activations; the floor is cached with the statistics.
PREPROCESSING_VERSION = 2
FLOOR_KID_SUBSETS = 100  # the floor's KID: as the evaluation's default, fixed so the cache holds one value
DEFAULT_CACHE_DIR = Path(os.environ.get("GANLIB_CACHE_DIR", Path.home() / ".cache" / "ganlib" / "stats"))
MEMORY_CACHE = 4  # references kept in memory (a live run evaluates against the same one every K epochs)
_memory: "OrderedDict[tuple[str, str], RealReference]" = OrderedDict()


def extractor_label(ext: FeatureExtractor) -> str:
    return f"{ext.name}{'' if getattr(ext, 'pretrained', True) else ' (random weights)'}"


def dataset_key(cfg: Any) -> dict[str, Any]:
    """What identifies a run's real images for the statistics cache."""
    return data_fields(cfg)


@dataclass
class Floor:
    """Real against real at the reference's N (or at n, two halves, when the data is short)."""
    fid: float
    kid: float
    kid_std: float
    n: int  # images on each side
    note: str = ""  # why n differs from the reference's N, or ""


@dataclass
class RealReference:
    mu: torch.Tensor  # float64 (D,)
    sigma: torch.Tensor  # float64 (D, D)
    n: int
    feats: torch.Tensor  # float32 (n, D): KID, precision/recall and per-class FID need them
    labels: Optional[torch.Tensor]  # true labels of those images, or None
    class_hist: Optional[torch.Tensor]  # the classifier's predicted-class histogram of real data
    extractor: str
    floor: Optional[Floor] = None  # real vs real at this N: `real_reference(..., floor=True)`

    def to(self, device) -> "RealReference":
        t = lambda x: None if x is None else x.to(device)  # noqa: E731
        return RealReference(t(self.mu), t(self.sigma), self.n, t(self.feats), t(self.labels),
                             t(self.class_hist), self.extractor, self.floor)


def reference_key(dataset: dict[str, Any], extractor: FeatureExtractor, n: int) -> dict[str, Any]:
    key = {"dataset": dataset, "extractor": extractor_label(extractor), "n": int(n),
           "preprocessing": PREPROCESSING_VERSION}
    if dataset.get("dataset") in READS_FILES:  # files read by the reader of this version (alpha, EXIF, crop)
        key["reader"] = PACK_VERSION
    return key


def real_reference(images: torch.Tensor, labels: Optional[torch.Tensor], extractor: FeatureExtractor,
                   n: int, *, dataset_key: Optional[dict[str, Any]] = None,
                   cache_dir: str | Path | None = None, floor: bool = False) -> RealReference:
    """Statistics of the first `n` real images (the data is already shuffled), from the disk
    cache when `dataset_key` identifies the data. Mean and covariance are float64 running sums.
    With `floor`, also the real-vs-real floor (`Floor`), computed once and cached with them."""
    n = min(int(n), images.shape[0])
    device = images.device
    path = key = ref = None
    if dataset_key is not None:
        key = reference_key(dataset_key, extractor, n)
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        path = Path(cache_dir or DEFAULT_CACHE_DIR) / f"real_{digest}.npz"
        mem_key = (str(path), str(device))
        if mem_key in _memory and path.is_file():
            _memory.move_to_end(mem_key)
            ref = _memory[mem_key]
        elif path.is_file():
            try:
                ref = _remember(mem_key, _load_reference(path, device, extractor_label(extractor)))
            except Exception:  # noqa: BLE001 - a corrupt cache is recomputed, not fatal
                ref = None
    fresh = ref is None
    if fresh:
        ref = _compute_reference(images, labels, extractor, n)
    if floor and ref.floor is None:
        ref.floor = real_floor(images, extractor, ref)
        fresh = True
    if fresh and path is not None:
        _save(path, key, ref)
        _remember((str(path), str(device)), ref)
    return ref


def _features(images: torch.Tensor, extractor: FeatureExtractor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Features (float32) and, for a classifier of at most 100 classes, the predicted-class histogram."""
    feats, hist = [], None
    for part in images.split(1000):
        f, logits = extractor.features_and_logits(part)
        feats.append(f.float())
        if logits is not None and extractor.num_classes <= 100:
            h = class_histogram(logits.argmax(1), extractor.num_classes).to(images.device)
            hist = h if hist is None else hist + h
    return torch.cat(feats), hist


def _compute_reference(images: torch.Tensor, labels: Optional[torch.Tensor], extractor: FeatureExtractor,
                       n: int) -> RealReference:
    feats, hist = _features(images[:n], extractor)
    stats = RunningStats(extractor.feature_dim, images.device).update(feats)
    return RealReference(stats.mean, stats.cov, n, feats, labels[:n] if labels is not None else None, hist,
                         extractor_label(extractor))


def real_floor(images: torch.Tensor, extractor: FeatureExtractor, ref: RealReference) -> Floor:
    """FID and KID of real images [N, 2N) against the reference's first N (`ref`), as an
    evaluation computes them; with fewer than 2N images, of [N', 2N') against [0, N') at
    N' = len // 2. Only the images past the reference's N go through the extractor."""
    total, n = images.shape[0], ref.n
    m = n if total >= 2 * n else total // 2
    note = "" if m == n else (
        f"The real-vs-real floor compares two disjoint halves of {m:,} images: the data holds {total:,}, "
        f"fewer than 2N = {2 * n:,}. A floor at N' = {m:,} < N sits a little above the floor at N.")
    if m < 2:
        return Floor(math.nan, math.nan, math.nan, m, note)
    feats = ref.feats
    if 2 * m > n:
        feats = torch.cat([feats, _features(images[n:2 * m], extractor)[0].to(feats.device)])
    a, b = feats[:m], feats[m:2 * m]
    mu_a, sigma_a = (ref.mu, ref.sigma) if m == n else mean_cov(a)
    mu_b, sigma_b = mean_cov(b)
    with warnings.catch_warnings():  # N < dim is said once, by the evaluation
        warnings.simplefilter("ignore")
        fid = frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
    kid_mean, kid_std = kid(b, a, n_subsets=FLOOR_KID_SUBSETS, subset_size=kid_subset_size(m, m))
    return Floor(fid, kid_mean, kid_std, m, note)


def _save(path: Path, key: dict[str, Any], ref: RealReference) -> None:
    buf = io.BytesIO()
    fl = ref.floor
    np.savez(buf, mu=ref.mu.cpu().numpy(), sigma=ref.sigma.cpu().numpy(), n=ref.n,
             feats=ref.feats.cpu().numpy(),
             labels=ref.labels.cpu().numpy() if ref.labels is not None else np.zeros(0, np.int64),
             class_hist=ref.class_hist.cpu().numpy() if ref.class_hist is not None else np.zeros(0),
             floor=np.array([fl.fid, fl.kid, fl.kid_std, fl.n]) if fl is not None else np.zeros(0),
             floor_note=np.array(fl.note if fl is not None else ""))
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_bytes(path.with_suffix(".json"), json.dumps(key, indent=2).encode())


def _remember(key: tuple[str, str], ref: RealReference) -> RealReference:
    _memory[key] = ref
    while len(_memory) > MEMORY_CACHE:
        _memory.popitem(last=False)
    return ref


def _load_reference(path: Path, device, label: str) -> RealReference:
    with np.load(path, allow_pickle=False) as z:
        t = lambda a: torch.from_numpy(np.array(a)).to(device)  # noqa: E731
        labels = t(z["labels"]) if z["labels"].size else None
        hist = t(z["class_hist"]) if z["class_hist"].size else None
        floor = None
        if "floor" in z.files and z["floor"].size == 4:
            fid, kid_mean, kid_std, m = (float(v) for v in z["floor"])
            floor = Floor(fid, kid_mean, kid_std, int(m), str(z["floor_note"]))
        return RealReference(t(z["mu"]), t(z["sigma"]), int(z["n"]), t(z["feats"]), labels, hist, label, floor)

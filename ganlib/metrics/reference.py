"""Statistics of a run's real images: computed once per (data, extractor, N, preprocessing),
cached on disk (written atomically) and in memory, and shared by the engine, the Evaluate
page, the explorers and the CLI, which all key the data with `ganlib.data.data_fields`."""
from __future__ import annotations

import hashlib
import io
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ganlib.core.atomic import atomic_write_bytes
from ganlib.data import data_fields
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.class_coverage import class_histogram
from ganlib.metrics.feature_stats import RunningStats

PREPROCESSING_VERSION = 1  # bump when extractor preprocessing changes: old caches stop matching
DEFAULT_CACHE_DIR = Path(os.environ.get("GANLIB_CACHE_DIR", Path.home() / ".cache" / "ganlib" / "stats"))
MEMORY_CACHE = 4  # references kept in memory (a live run evaluates against the same one every K epochs)
_memory: "OrderedDict[tuple[str, str], RealReference]" = OrderedDict()


def extractor_label(ext: FeatureExtractor) -> str:
    return f"{ext.name}{'' if getattr(ext, 'pretrained', True) else ' (random weights)'}"


def dataset_key(cfg: Any) -> dict[str, Any]:
    """What identifies a run's real images for the statistics cache."""
    return data_fields(cfg)


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
        mem_key = (str(path), str(device))
        if mem_key in _memory and path.is_file():
            _memory.move_to_end(mem_key)
            return _memory[mem_key]
        if path.is_file():
            try:
                return _remember(mem_key, _load_reference(path, device, extractor_label(extractor)))
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
        _remember((str(path), str(device)), ref)
    return ref


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
        return RealReference(t(z["mu"]), t(z["sigma"]), int(z["n"]), t(z["feats"]), labels, hist, label)



"""How each metric of a generator of images is computed: FID (with a bootstrap std), KID, IS,
precision/recall, the real-vs-real floor and, where the extractor is a classifier of the data's
classes, class coverage, class KL and label accuracy. `metric_registry.METRICS` names each
function as its metric's compute for the "image" family; `evaluation.score_images` runs them.

Every compute reads one `ImageInputs` (the generated features, logits and requested labels
beside the real reference) and returns its columns, or {} when it does not apply (no logits,
no classifier of the data's classes). What several metrics share (precision and recall, the
predicted classes) is computed once, on first use.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Optional

import torch

from ganlib.metrics import FeatureExtractor
from ganlib.metrics.class_coverage import class_histogram, class_kl, classes_covered
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.frechet import fid_bootstrap, frechet_distance
from ganlib.metrics.inception_score import inception_score
from ganlib.metrics.kid import kid, kid_subset_size
from ganlib.metrics.precision_recall import precision_recall
from ganlib.metrics.reference import RealReference

PR_MAX = 5000  # precision/recall use at most this many of each set: its cost is N^2 * dim


@dataclass
class ImageInputs:
    """What the image metrics are computed from; `details` collects what they add beside the row."""

    gen: torch.Tensor  # (n, D) features of the generated samples
    logits: Optional[torch.Tensor]  # (n, C) class logits, when the extractor has a head
    requested: Optional[torch.Tensor]  # (n,) the labels the samples were asked for (conditional)
    ref: RealReference
    extractor: FeatureExtractor
    num_classes: int
    n_boot: int = 10
    kid_subsets: int = 100
    class_names: list[str] = field(default_factory=list)  # the data's; [] when unknown
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.gen)

    @cached_property
    def pred(self) -> Optional[torch.Tensor]:
        """The classifier's predicted class of each sample, when it classifies the data's classes:
        its class names are the data's (the digit CNN's "0".."9" on digits, not on any ten
        folders); data without names is taken at its class count."""
        own = getattr(self.extractor, "class_names", None)
        same = list(own) == list(self.class_names) if own is not None and self.class_names else \
            self.extractor.num_classes == self.num_classes
        ok = self.logits is not None and self.ref.class_hist is not None and same
        return self.logits.argmax(1) if ok else None

    @cached_property
    def pr(self) -> tuple[float, float]:
        m = min(PR_MAX, self.n, self.ref.n)
        self.details["pr_n"] = m
        return precision_recall(self.ref.feats[:m], self.gen[:m], k=3)


def compute_fid(x: ImageInputs) -> dict[str, float]:
    stats = RunningStats(x.extractor.feature_dim, x.gen.device).update(x.gen)
    with warnings.catch_warnings():  # a small N: `sample_size_warning` says it once
        warnings.simplefilter("ignore")
        fid = frechet_distance(x.ref.mu, x.ref.sigma, stats.mean, stats.cov)
        _, std, _ = fid_bootstrap(x.gen, x.ref.mu, x.ref.sigma, n_boot=x.n_boot)
    return {"fid": fid, "fid_std": std}


def compute_kid(x: ImageInputs) -> dict[str, float]:
    subset = kid_subset_size(x.n, x.ref.n)
    x.details["kid_subset"] = subset
    mean, std = kid(x.gen, x.ref.feats, n_subsets=x.kid_subsets, subset_size=subset)
    return {"kid": mean, "kid_std": std}


def compute_is(x: ImageInputs) -> dict[str, float]:
    if x.logits is None:
        return {}
    mean, std = inception_score(x.logits, splits=10)
    return {"is_mean": mean, "is_std": std}


def compute_classes_covered(x: ImageInputs) -> dict[str, float]:
    if x.pred is None:
        return {}
    x.details["gen_hist"] = class_histogram(x.pred, x.num_classes).tolist()
    x.details["real_hist"] = x.ref.class_hist.tolist()
    return {"classes_covered": classes_covered(x.pred, x.num_classes, real_hist=x.ref.class_hist)}


def compute_class_kl(x: ImageInputs) -> dict[str, float]:
    if x.pred is None:
        return {}
    return {"class_kl": class_kl(class_histogram(x.pred, x.num_classes), x.ref.class_hist)}


def compute_label_acc(x: ImageInputs) -> dict[str, float]:
    if x.pred is None or x.requested is None:
        return {}
    hit = x.pred == x.requested
    x.details["label_acc_per_class"] = [hit[x.requested == c].float().mean().item() for c in range(x.num_classes)]
    return {"label_acc": hit.float().mean().item()}


def compute_floor(x: ImageInputs) -> dict[str, float]:
    f = x.ref.floor
    if f is None:
        return {}
    x.details["floor_n"] = f.n
    return {"fid_floor": f.fid, "kid_floor": f.kid, "kid_floor_std": f.kid_std}


def compute_precision(x: ImageInputs) -> dict[str, float]:
    return {"precision": x.pr[0]}


def compute_recall(x: ImageInputs) -> dict[str, float]:
    return {"recall": x.pr[1]}

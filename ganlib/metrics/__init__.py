"""Layer 2, metrics: feature extractors (a registry), distances (FID, KID, IS, precision/recall,
class coverage, memorisation), cached real statistics, the metric registry (`metric_registry`:
every column's compute, label, format and direction) and the one evaluation
(`evaluation.evaluate_generator`) that the engine, the Evaluate page, the explorers and the CLI
call. It imports core and the plugins (data, models), never the store, the engine or anything above.

Every extractor takes images in [-1, 1], (N, C, H, W) of any size and channel count, and does
its own preprocessing, so a metric value depends only on (extractor, N) — which is what every
value shown in the UI states.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import nn

from ganlib.core.errors import UserError
from ganlib.core.registry import Registry


class ExtractorUnavailable(UserError, RuntimeError):
    """The extractor's weights cannot be had (offline, no local file); the message says how."""


class FeatureExtractor(nn.Module):
    """Base class: `features` gives (N, feature_dim) float32; `logits` gives class logits
    (N, num_classes) for IS and class predictions, or None when the network has no head."""

    name: str = "?"
    feature_dim: int = 0
    num_classes: int = 0
    description: str = ""

    def features(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def logits(self, images: torch.Tensor) -> Optional[torch.Tensor]:
        return None

    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """One forward pass for both where the network allows; override to share the trunk."""
        return self.features(images), self.logits(images)


@dataclass(frozen=True)
class FitProbe:
    """How to tell, from real images of unknown content (a folder, a zip), whether an extractor
    fits them: the FID of their features against its own training images' (`reference`, a
    dataset) is at most `max_fid`, and at least `min_confident` of them get a class probability
    of 0.9 or more. Confidence alone tells nothing: the digit CNN is 90 % sure of 98 % of the
    emoji (docs/PERF.md, "Which extractor fits")."""

    reference: str  # the dataset the extractor was trained on
    size: int  # ... read at this size
    channels: int  # ... and these channels
    max_fid: float
    min_confident: float = 0.0
    n: int = 500  # real images looked at, spread evenly over the data


@dataclass(frozen=True)
class ExtractorSpec:
    """A registered extractor: how to build it and what it fits. `auto` (`extractor_choice`)
    uses an extractor made for the data (`datasets`, or `probe` on images of unknown content),
    else a `general` one whose weights can be had, else none."""

    factory: Callable[..., FeatureExtractor]  # (device=..., weights=...) -> extractor in eval mode
    fits: str  # the data it was made for, in words
    datasets: frozenset[str] = frozenset()  # the built-in datasets it fits
    general: bool = False  # made for images of every kind (ImageNet): the fallback
    probe: Optional[FitProbe] = None  # decides for a folder or zip
    class_names: Optional[tuple[str, ...]] = None  # its classes, when it classifies the data's own

    def __call__(self, **kwargs) -> FeatureExtractor:
        return self.factory(**kwargs)


# name -> its spec; calling the spec (device=...) builds the extractor, frozen, in eval() mode
FEATURE_EXTRACTORS: Registry[ExtractorSpec] = Registry("feature extractor")


# Registration: one import per extractor file.
# isort: off
from ganlib.metrics import extractor_inception as _inception  # noqa: E402,F401
from ganlib.metrics import extractor_digits as _digits  # noqa: E402,F401
from ganlib.metrics import extractor_emoji as _emoji  # noqa: E402,F401
from ganlib.metrics import health_rules as _health_rules  # noqa: E402,F401 - the verdict's rules, in order
# isort: on

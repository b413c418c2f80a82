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


# name -> factory(device) returning an extractor in eval() mode with frozen weights
FEATURE_EXTRACTORS: Registry[Callable[..., FeatureExtractor]] = Registry("feature extractor")


# Registration: one import per extractor file.
# isort: off
from ganlib.metrics import extractor_inception as _inception  # noqa: E402,F401
from ganlib.metrics import extractor_digits as _digits  # noqa: E402,F401
# isort: on

"""What the shipped classifier extractors share (the digit CNN, the emoji CNN): the frozen
standardisation of their features, the extractor wrapper that keeps them in eval mode and runs
them in batches, and the loading of their safetensors weights with a message that says how to
make them again.

A classifier's features are its penultimate layer *before* the ReLU, standardised per dimension
with the mean and std of its own training images' features, so FID on them is in units of the
real data's spread (held-out real images score near 0, an untrained generator hundreds).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from safetensors.torch import load_file
from torch import nn

from ganlib.metrics import ExtractorUnavailable, FeatureExtractor


class Standardise(nn.Module):
    """(x - mean) / std per dimension, with fixed buffers: the training images' feature
    statistics, written by the training script and loaded with the weights."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class ClassifierExtractor(FeatureExtractor):
    """A classifier network (with `features_and_logits(x)` on its own input) as an extractor:
    `to_input` turns any [-1, 1] (N, C, H, W) into that input; frozen, always in eval mode."""

    def __init__(self, net: nn.Module, to_input: Callable[[torch.Tensor], torch.Tensor],
                 class_names: Sequence[str], batch_size: int = 1024):
        super().__init__()
        self.net = net
        self.to_input = to_input
        self.class_names = list(class_names)
        self.batch_size = batch_size  # images per forward pass
        super().train(False)
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> "ClassifierExtractor":
        """Stays in eval mode whatever is asked: BatchNorm and Dropout must not act as in training."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return self.net.head.weight.device

    @torch.no_grad()
    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits = [], []
        for part in images.split(self.batch_size):
            f, lg = self.net.features_and_logits(self.to_input(part.to(self.device)))
            feats.append(f)
            logits.append(lg)
        return torch.cat(feats), torch.cat(logits)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(images)[1]


def load_weights(net: nn.Module, path: Path, remake: str) -> nn.Module:
    """`net` with the safetensors file's weights (float16 files are widened to the net's dtype);
    ExtractorUnavailable, naming `remake` (the command that makes them), when the file is missing
    or lacks a tensor the network has (a file from before its features were standardised)."""
    if not path.is_file():
        raise ExtractorUnavailable(f"weights not found at {path}; make them with `{remake}`")
    state = load_file(str(path), device="cpu")
    missing = sorted(set(net.state_dict()) - set(state))
    if missing:
        raise ExtractorUnavailable(f"{path} lacks {', '.join(missing)}; make the weights again with `{remake}`")
    net.load_state_dict(state)  # copy_ widens float16 to the parameters' float32
    return net


def weights_path(weights: Optional[str], default: Path) -> Path:
    return Path(weights) if weights is not None else default

"""Which torch device a run gets: `auto` is CUDA when a GPU is visible, else the CPU."""
from __future__ import annotations

import torch

from ganlib.core.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was asked for but no GPU is visible; use auto or cpu")
    return dev

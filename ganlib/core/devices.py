"""Which torch device a run gets: `auto` is CUDA when a GPU is visible, else the CPU."""
from __future__ import annotations

import os
from typing import Optional

import torch

from ganlib.core.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was asked for but no GPU is visible; use auto or cpu")
    return dev


def available_bytes(device: torch.device) -> Optional[int]:
    """Memory a new run may still take on `device`: free GPU memory for CUDA, MemAvailable (free
    plus reclaimable cache) for the CPU; None when the system does not say."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None

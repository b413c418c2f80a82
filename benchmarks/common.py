"""The set-up every benchmark script shares: the command line it records beside its numbers,
and the device it times on, described the same way in every table."""
from __future__ import annotations

import os
import platform
import shlex
import sys
from typing import Optional, Sequence

import torch


def command_line(script: str, argv: Optional[Sequence[str]]) -> str:
    """How to run it again: `main(argv)` called from a test records its own arguments."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(shlex.quote(s) for s in [sys.executable, os.path.relpath(script), *args])


def pick_device(requested: str, threads: int = 0) -> tuple[torch.device, str]:
    """`auto`, `cpu` or `cuda` as a device, with `threads` torch threads (0: torch's default),
    and its description: the GPU's name, or the CPU's with its thread count."""
    if threads:
        torch.set_num_threads(threads)
    if requested == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no GPU is visible")
    device = torch.device(requested if requested != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        return device, torch.cuda.get_device_name(device)
    return device, (f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                    f"torch threads {torch.get_num_threads()})")

"""The set-up every benchmark script shares: the command line it records beside its numbers,
the device it times on, described the same way in every table, and the writing of its own
section of docs/PERF.md."""
from __future__ import annotations

import os
import platform
import re
import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from ganlib.core.atomic import atomic_write_text


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


PERF_TITLE = "# Performance"


def replace_section(text: str, heading: str, body: str) -> str:
    """`text` with the level-2 section `heading` (up to the next `## ` heading) replaced by
    `heading` + `body`, or with it appended; the other sections are left as they are."""
    new = f"{heading}\n\n{body.strip()}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + new if text.strip() else f"{PERF_TITLE}\n\n{new}"
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"## ", lines[i])), len(lines))
    after = "".join(lines[end:])
    return "".join(lines[:start]) + new + ("\n" + after if after else "")


def write_perf(path: Path, section: str, body: str) -> None:
    """Replace (or add) one `## section` of docs/PERF.md, written atomically."""
    text = path.read_text() if path.is_file() else ""
    atomic_write_text(path, replace_section(text, section, body))

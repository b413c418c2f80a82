"""Atomic file writes: a temp file in the same folder, flushed, then `os.replace`d.

A crash mid-write leaves the previous file intact, never a half-written one, so a checkpoint,
`metrics.csv` or a cached statistic is always either old and whole or new and whole.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import IO, Callable

import torch

TEMP_SUFFIX = ".tmp"


def is_temp_file(path: Path) -> bool:
    """A temp file of an atomic write (`.NAME.XXXXXXXX.tmp`): left behind only when its process
    was killed mid-write, since every other failure removes it."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(path: str | Path, obj) -> Path:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())

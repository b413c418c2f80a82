"""Image files on disk: which files under a folder count, and the one reader for them.

    files = image_files(Path("fakes"))            # subfolders included, hidden files left out
    a = read_image(files[0])                      # uint8 (C, H, W), C = 1 or 3; None if unreadable
    a = read_image(path, rgb=True, size=64)       # what the folder dataset stores

A file PIL cannot read (not an image, truncated, a decompression bomb) gives None rather than
an exception, so a caller can count what it skipped and carry on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

# Modes read as one gray channel; every other mode is converted to RGB (as pytorch-fid does with
# every image). Gray stays one channel so the digit classifier sees the exact pixel values; the
# Inception extractor repeats it over 3 channels, which is what PIL's convert("RGB") gives.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


def image_files(root: Path) -> list[Path]:
    """Every file under `root`, subfolders included, hidden files and folders left out, sorted."""
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def read_image(path: Path, *, rgb: bool = False, size: Optional[int] = None) -> Optional[np.ndarray]:
    """uint8 (C, H, W): C = 1 for gray modes and 3 otherwise (always 3 with `rgb`), resized to
    size x size (bicubic) when `size` is given; None when PIL cannot read the file."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB" if rgb or im.mode not in GRAY_MODES else "L")
            if size is not None:
                im = im.resize((size, size), Image.Resampling.BICUBIC)
            a = np.asarray(im, dtype=np.uint8)
    except Exception:  # noqa: BLE001 - not an image, truncated, a decompression bomb: skipped and counted
        return None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)

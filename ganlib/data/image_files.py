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


def read_image(path: Path, *, rgb: bool = False, size: Optional[int] = None,
               reasons: Optional[list[str]] = None) -> Optional[np.ndarray]:
    """uint8 (C, H, W): C = 1 for gray modes and 3 otherwise (always 3 with `rgb`), resized to
    size x size (bicubic) when `size` is given; None when the file cannot be read, with the
    reason appended to `reasons` when given. 16-bit and float images are scaled to 8 bits
    (`to_8bit`), never clipped into white or black."""
    try:
        with Image.open(path) as im:
            im = to_8bit(im)
            im = im.convert("RGB" if rgb or im.mode not in GRAY_MODES else "L")
            if size is not None:
                im = im.resize((size, size), Image.Resampling.BICUBIC)
            a = np.asarray(im, dtype=np.uint8)
    except Exception as e:  # noqa: BLE001 - not an image, truncated, a decompression bomb: skipped and counted
        if reasons is not None:
            reasons.append(f"{path.name}: {' '.join(str(e).split())[:120] or type(e).__name__}")
        return None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def to_8bit(im: Image.Image) -> Image.Image:
    """An 8-bit image of a 16-bit or float one, scaled rather than clipped (PIL's own
    convert("L") clips 16-bit values, so nearly every pixel turns white): 16-bit integers
    0..65535 map to 0..255; 32-bit integers too, unless all lie in 0..255 already; floats in
    [0, 1] or [0, 255] are scaled accordingly, and any other float range is refused."""
    if im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
        return im
    a = np.asarray(im).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError("float pixels include NaN or inf")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if im.mode == "F":
        if lo < 0 or hi > 255:
            raise ValueError(f"float pixels range from {lo:g} to {hi:g}; only [0, 1] or [0, 255] can be read")
        scale = 255.0 if hi <= 1.0 else 1.0
    else:
        if lo < 0 or hi > 65535:
            raise ValueError(f"integer pixels range from {lo:g} to {hi:g}; only 8- and 16-bit values can be read")
        scale = 1.0 if im.mode == "I" and hi <= 255 else 255.0 / 65535.0
    return Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8), "L")

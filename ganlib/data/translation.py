"""What the image-to-image translation datasets share: the fixed split of mnist5k that the
built-in tasks use, their two image transforms, and reading the folder layouts' files.

Translation data is a `RawData` whose `images` are domain B (the target) and whose `source` is
domain A; `paired` says that source[i] translates to images[i]. `held_out` is a fixed test
split of the same shape, the one the grids and the translation metrics read.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganlib.data import DatasetUnavailable, RawData
from ganlib.data.image_files import ReadOptions, image_files, read_image
from ganlib.data.mnist5k_split import load_heldout, load_train

SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
EDGE_THRESHOLD = 1.0  # gradient magnitude on [0, 1] pixels: the outline of a stroke, not its inside


def mnist_split() -> tuple[RawData, RawData]:
    """(train, held out): mnist5k_train's 4,000 and mnist5k_heldout's 1,000 digits, the one
    fixed split of mnist5k (that of the digit classifier, so its scores on held-out
    translations are on digits it never saw)."""
    return load_train(), load_heldout()


def edges(images: torch.Tensor) -> torch.Tensor:
    """uint8 digits -> uint8 edge maps: white where the Sobel gradient magnitude is large."""
    x = images.float() / 255.0
    k = torch.stack([SOBEL, SOBEL.t()]).unsqueeze(1)
    g = F.conv2d(x, k, padding=1)
    return ((g.square().sum(1, keepdim=True).sqrt() > EDGE_THRESHOLD) * 255).to(torch.uint8)


def thicken(images: torch.Tensor) -> torch.Tensor:
    """uint8 digits -> the same digits with strokes about 2 px thicker (a 3x3 max filter)."""
    return F.max_pool2d(images.float(), 3, stride=1, padding=1).to(torch.uint8)


# ---- folders -------------------------------------------------------------------------------
def files_in(folder: Path) -> list[Path]:
    return image_files(folder) if folder.is_dir() else []


def read_stack(files: list[Path], read: ReadOptions, what: str) -> torch.Tensor:
    """uint8 (N, 3, size, size) of `files`; an unreadable file is an error naming it (a pair
    with one side missing would silently shift every later pair)."""
    out = []
    opts = dataclasses.replace(read, channels=3)
    for f in files:
        a = read_image(f, opts)
        if a is None:
            raise DatasetUnavailable(f"{what}: {f} is not a readable image")
        out.append(a)
    if not out:
        raise DatasetUnavailable(f"{what}: no images")
    return torch.from_numpy(np.stack(out))


def read_side_by_side(f: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """pix2pix's combined file: A on the left half, B on the right, each resized to size."""
    try:
        with Image.open(f) as im:
            im = im.convert("RGB")
            w, h = im.size
            if w % 2:
                raise DatasetUnavailable(f"paired folder: {f} is {w}x{h}; a side-by-side pair needs an even width")
            halves = [im.crop(box).resize((size, size), Image.Resampling.BICUBIC)
                      for box in ((0, 0, w // 2, h), (w // 2, 0, w, h))]
    except DatasetUnavailable:
        raise
    except Exception:  # noqa: BLE001 - not an image, truncated: named below
        raise DatasetUnavailable(f"paired folder: {f} is not a readable image") from None
    a, b = (np.asarray(x, dtype=np.uint8).transpose(2, 0, 1) for x in halves)
    return a, b


def image_size_of(f: Path) -> Optional[tuple[int, int]]:
    try:
        with Image.open(f) as im:
            return im.size
    except Exception:  # noqa: BLE001 - unreadable: read_stack names it
        return None


def split_off(files: list[Path], fraction: float = 0.1) -> tuple[list[Path], list[Path]]:
    """(train, held out) when a layout has no test folder: the last tenth by name, at least one."""
    k = max(1, int(len(files) * fraction)) if len(files) > 1 else 0
    return (files[:-k], files[-k:]) if k else (files, [])

"""Any folder of images. Class subfolders become labels; files that are not images are counted."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganlib.data import DATASETS, DatasetUnavailable, RawData
from ganlib.data.image_files import read_image


@DATASETS.register("folder")
def load_folder(data_path: str = "", image_size: int = 64) -> RawData:
    """Every file is resized to `image_size` on reading, so folders of mixed sizes stack."""
    root = Path(data_path).expanduser()
    if not data_path or not root.is_dir():
        raise DatasetUnavailable(f"folder dataset: {data_path or '(no path)'} is not a folder")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subdirs:
        groups = [(i, sorted(f for f in d.rglob("*") if f.is_file())) for i, d in enumerate(subdirs)]
        names = [d.name for d in subdirs]
    else:
        groups = [(None, sorted(f for f in root.iterdir() if f.is_file()))]
        names = []
    images, labels, skipped, reasons = [], [], 0, []
    for label, files in groups:
        for f in files:
            a = read_image(f, rgb=True, size=image_size, reasons=reasons)
            if a is None:
                skipped += 1
            else:
                images.append(a)
                labels.append(label)
    if not images:
        first = f"; first: {reasons[0]}" if reasons else ""
        raise DatasetUnavailable(f"folder dataset: no readable images in {root} ({skipped} files skipped{first})")
    x = torch.from_numpy(np.stack(images))  # (N, 3, H, W), contiguous
    y = torch.tensor(labels, dtype=torch.int64) if subdirs else None
    note = f"{len(images)} images" + (f" in {len(names)} classes" if names else "")
    note += f"; {skipped} unreadable or non-image files skipped (first: {reasons[0]})" if skipped else ""
    return RawData(x, y, names, note)

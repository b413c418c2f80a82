"""A folder (or zip) of images written as one zip in the layout stylegan2-ada's `dataset_tool.py`
writes: uniform PNGs `00000/img00000000.png` (1,000 to a folder) and `dataset.json` with
`{"labels": [[name, class], ...] or null}`; we add `"class_names"`. The `zip` dataset reads it
back (and stylegan2-ada's training reads it too).

    n, skipped = write_dataset_zip(Path("icons"), Path("icons.zip"), ReadOptions(size=64, channels=3))

The images are those a run trains on (read once through the pack: same size, channels,
background and crop), so a zip made here trains exactly like its folder.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ganlib.core.atomic import atomic_write
from ganlib.data.image_files import ReadOptions
from ganlib.data.pack import Progress, packed
from ganlib.data.sources import open_source

PER_FOLDER = 1000


def member_name(i: int) -> str:
    return f"{i // PER_FOLDER:05d}/img{i:08d}.png"


def write_dataset_zip(path: Path | str, out: Path | str, read: ReadOptions,
                      progress: Optional[Progress] = None) -> tuple[int, list[str]]:
    """Write the zip atomically (a failure leaves no partial file); returns the number of images
    and the files skipped ("name: reason")."""
    say = progress or (lambda f, t: None)
    src = open_source(path)
    pack = packed(src, read, lambda f, t: say(0.5 * f, t))
    n = len(pack.images)
    labels = pack.labels.tolist() if pack.labels is not None else None

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:  # PNGs are compressed already
            for i in range(n):
                a = np.asarray(pack.images[i])
                im = Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))
                buf = io.BytesIO()
                im.save(buf, format="PNG", compress_level=6)
                zf.writestr(member_name(i), buf.getvalue())
                if i % 256 == 0 or i == n - 1:
                    say(0.5 + 0.5 * (i + 1) / n, f"Writing {Path(out).name}: {i + 1:,} of {n:,} images")
            doc = {"labels": [[member_name(i), int(c)] for i, c in enumerate(labels)] if labels is not None else None,
                   "class_names": pack.class_names or None}
            zf.writestr("dataset.json", json.dumps(doc))

    atomic_write(out, write)
    return n, pack.skipped

"""A user's own images on a shared server: a zip of images, unpacked by the untrusted-zip rules
(`untrusted.read_zip`: no links, no `..` or absolute names, sizes checked before and while
inflating) into the user's upload folder, which is one of the data roots they may train on.

    folder = unpack_images(data, "cats.zip", settings.uploads_of(actor), max_mb=200, max_files=20_000)
    # -> uploads/ada/cats/  ... then train with dataset "folder", data_path = folder

Only image files are accepted (a zip holding anything else is refused whole, naming the member);
a second upload of the same name replaces the first. The folder is written aside and renamed in
whole, so a refused or interrupted upload leaves nothing half-made.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from ganlib.interchange.untrusted import ImportRefused, read_zip

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def upload_name(filename: str) -> str:
    """The folder an upload unpacks to: the zip's name, made safe (letters, digits, . _ -)."""
    stem = _SAFE.sub("_", Path(filename).stem).strip("._") or "upload"
    return stem[:64]


def unpack_images(data: bytes, filename: str, dest_root: Path, max_mb: int, max_files: int) -> Path:
    """Unpack a zip of images into `dest_root/<name>/`; returns that folder. ImportRefused for a
    zip over `max_mb` (packed or unpacked) or `max_files` files, or holding anything but images."""
    limit = max_mb << 20
    if len(data) > limit:
        raise ImportRefused(f"{filename} is {len(data) / 2**20:.1f} MiB; uploads are limited to {max_mb} MiB")
    files = read_zip(data, suffixes=IMAGE_SUFFIXES, max_members=max_files, max_total=limit)
    if not files:
        raise ImportRefused(f"{filename} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    dest_root.mkdir(parents=True, exist_ok=True)
    dest = dest_root / upload_name(filename)
    tmp = Path(tempfile.mkdtemp(prefix=".upload-", dir=dest_root))
    try:
        for name, content in files.items():  # names checked by read_zip: relative, no `..`, no links
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest

"""Feature statistics of image sets on disk: a folder of images, or pytorch-fid's .npz of them.

    kind = path_kind(path)                                  # "folder" or "npz"
    stats, note = folder_stats(path, extractor, batch_size=50, workers=8)
    stats = load_stats(Path("real.npz"))                    # mu, sigma (and n, when ganlib wrote it)

This is what `python -m ganlib fid` compares. Errors name the path: FileNotFoundError for a
missing one, ValueError for one that holds no usable images or statistics.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ganlib.core.errors import BadValue, NotFound
from ganlib.data.image_files import image_files, read_image
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.feature_stats import RunningStats

FilesProgress = Callable[[int, int], None]  # (files done, files in all)


def path_kind(path: Path) -> str:
    """'folder' or 'npz'; anything else names the path in its error."""
    if path.is_dir():
        return "folder"
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return "npz"
        raise BadValue(f"{path} is a file but not an .npz: give a folder of images or an .npz of "
                         f"statistics holding mu and sigma")
    raise NotFound(f"no such folder or file: {path}")


def folder_stats(root: Path, extractor: FeatureExtractor, *, batch_size: int = 50, workers: int = 0,
                 progress: Optional[FilesProgress] = None) -> tuple[RunningStats, str]:
    """The extractor's feature statistics of every readable image under `root`, and a note on the
    files skipped ('' when none). Images are read and embedded `batch_size` at a time, so only one
    batch of full-size images is in memory; a batch is grouped by size and channels, so a folder of
    mixed images needs no resizing here (every extractor resizes its input itself)."""
    files = image_files(root)
    if not files:
        raise BadValue(f"no images in {root}: the folder is empty")
    device = extractor.device
    stats = RunningStats(extractor.feature_dim, device)
    skipped: list[Path] = []
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            arrays = list(pool.map(read_image, chunk)) if pool is not None else [read_image(f) for f in chunk]
            groups: dict[tuple[int, ...], list[np.ndarray]] = {}
            for f, a in zip(chunk, arrays):
                if a is None:
                    skipped.append(f)
                else:
                    groups.setdefault(a.shape, []).append(a)
            for group in groups.values():
                x = torch.from_numpy(np.stack(group)).to(device).float().div_(127.5).sub_(1.0)  # [-1, 1]
                stats.update(extractor.features(x))
            if progress is not None:
                progress(start + len(chunk), len(files))
    finally:
        if pool is not None:
            pool.shutdown()
    note = (f"{len(skipped)} of {len(files)} file{'s' if len(files) != 1 else ''} skipped as not readable "
            f"images, e.g. {skipped[0].relative_to(root)}") if skipped else ""
    if stats.n < 2:
        raise BadValue(f"{'no' if stats.n == 0 else 'only one'} readable image in {root}"
                         + (f" ({note})" if note else "") + "; FID needs at least 2")
    return stats, note


def load_stats(path: Path) -> RunningStats:
    """pytorch-fid's statistics file (`mu`, `sigma`; ganlib's also `n`), checked for shape and
    finite values."""
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - not a zip, truncated, pickled objects
        raise BadValue(f"{path} is not a readable .npz ({type(e).__name__}: {e}); expected "
                         f"pytorch-fid statistics holding mu and sigma") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise BadValue(f"{path} holds a single array, not pytorch-fid statistics (an .npz with mu and sigma)")
    with z:
        keys = list(z.files)
    missing = [k for k in ("mu", "sigma") if k not in keys]
    if missing:
        raise BadValue(f"{path} holds {', '.join(keys) or 'no arrays'}, not pytorch-fid statistics: "
                         f"no {' or '.join(missing)}")
    try:
        stats = RunningStats.from_npz(path)
        mu, sigma = stats.mean, stats.cov
    except Exception as e:  # noqa: BLE001 - wrong shapes or dtypes
        raise BadValue(f"{path}: bad statistics: {e}") from None
    if not (bool(mu.isfinite().all()) and bool(sigma.isfinite().all())):
        raise BadValue(f"{path}: mu or sigma contain NaN or inf")
    return stats

"""Paired images on disk, in either of pix2pix's layouts:

    ROOT/train/*.jpg (and val/ or test/): A and B side by side in each file (A left, B right)
    ROOT/A/train + ROOT/B/train (and A/test + B/test, or val): the same file names on both sides

The held-out split is val/, else test/, else the last tenth of train/ by name. Bad input (a
name with no partner, a pair of different sizes, an empty folder) is an error naming the files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ganlib.data import DATASETS, DatasetUnavailable, RawData
from ganlib.data.image_files import ReadOptions
from ganlib.data.translation import files_in, image_size_of, read_side_by_side, read_stack, split_off

HELD_OUT_NAMES = ("val", "test")


@DATASETS.register("paired_folder")
def load_paired_folder(data_path: str = "", read: ReadOptions = ReadOptions(64), progress=None) -> RawData:
    image_size = read.size or 64
    root = Path(data_path).expanduser()
    if not data_path or not root.is_dir():
        raise DatasetUnavailable(f"paired folder: {data_path or '(no path)'} is not a folder")
    if (root / "A").is_dir() or (root / "B").is_dir():
        return _two_folders(root, read)
    train = files_in(root / "train")
    if not train:
        raise DatasetUnavailable(f"paired folder: no images in {root / 'train'} (and no A/ and B/ folders)")
    held = next((files_in(root / n) for n in HELD_OUT_NAMES if files_in(root / n)), [])
    return _assembled(train, held, lambda fs: _combined(fs, image_size), "side by side", "val/ or test/", "train/")


def _combined(files: list[Path], size: int) -> RawData:
    a, b = zip(*(read_side_by_side(f, size) for f in files))
    return RawData(torch.from_numpy(np.stack(b)), None, source=torch.from_numpy(np.stack(a)), paired=True)


def _matched(root: Path, split: str) -> list[tuple[Path, Path]]:
    """(A file, B file) pairs of one split, matched by name; a name on one side only is an error."""
    a = {f.relative_to(root / "A" / split).as_posix(): f for f in files_in(root / "A" / split)}
    b = {f.relative_to(root / "B" / split).as_posix(): f for f in files_in(root / "B" / split)}
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        side, names, other = ("A", only_a, "B") if only_a else ("B", only_b, "A")
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        raise DatasetUnavailable(f"paired folder: {root / side / split / names[0]} has no file of the same name "
                                 f"in {root / other / split}{more}")
    pairs = [(a[k], b[k]) for k in sorted(a)]
    for fa, fb in pairs:
        sa, sb = image_size_of(fa), image_size_of(fb)
        if sa and sb and sa != sb:
            raise DatasetUnavailable(f"paired folder: {fa} is {sa[0]}x{sa[1]} but {fb} is {sb[0]}x{sb[1]}; "
                                     "the two sides of a pair must have the same size")
    return pairs


def _stacked(pairs: list[tuple[Path, Path]], read: ReadOptions) -> RawData:
    a = read_stack([p[0] for p in pairs], read, "paired folder")
    b = read_stack([p[1] for p in pairs], read, "paired folder")
    return RawData(b, None, source=a, paired=True)


def _two_folders(root: Path, read: ReadOptions) -> RawData:
    train = _matched(root, "train")
    if not train:
        raise DatasetUnavailable(f"paired folder: no images in {root / 'A' / 'train'} and {root / 'B' / 'train'}")
    held = next((p for p in (_matched(root, n) for n in HELD_OUT_NAMES) if p), [])
    return _assembled(train, held, lambda ps: _stacked(ps, read), "in A/ and B/", "A/val or A/test", "train")


def _assembled(train: list, held: list, build: Callable[[list], RawData], layout: str, held_names: str,
               train_name: str) -> RawData:
    """Both layouts' data with its held-out part: the layout's val/test folder, else the last
    tenth of train (said in the note)."""
    note = ""
    if not held:
        train, held = split_off(train)
        note = f"; no {held_names} folder: the last tenth of {train_name} is held out"
    part = build(train)
    part.held_out = build(held) if held else None
    part.note = f"{len(train)} pairs {layout}{note}"
    return part

"""Unpaired images on disk, in CycleGAN's layout: ROOT/trainA, ROOT/trainB (the two domains,
any number of images each, no pairs) and ROOT/testA, ROOT/testB (the held-out split; without
them the last tenth of each training domain is held out). Every image is resized to the run's
image size. An empty domain is an error naming its folder."""
from __future__ import annotations

from pathlib import Path

from ganlib.data import DATASETS, DatasetUnavailable, RawData
from ganlib.data.image_files import ReadOptions
from ganlib.data.translation import files_in, read_stack, split_off


@DATASETS.register("unpaired_folder")
def load_unpaired_folder(data_path: str = "", read: ReadOptions = ReadOptions(64), progress=None) -> RawData:
    root = Path(data_path).expanduser()
    if not data_path or not root.is_dir():
        raise DatasetUnavailable(f"unpaired folder: {data_path or '(no path)'} is not a folder")
    train = {}
    for d in ("A", "B"):
        train[d] = files_in(root / f"train{d}")
        if not train[d]:
            raise DatasetUnavailable(f"unpaired folder: domain {d} is empty: no images in {root / f'train{d}'}")
    test = {d: files_in(root / f"test{d}") for d in ("A", "B")}
    note = ""
    if not (test["A"] and test["B"]):
        for d in ("A", "B"):
            train[d], test[d] = split_off(train[d])
        note = "; no testA/ and testB/: the last tenth of each domain is held out"
    held = None
    if test["A"] and test["B"]:
        held = RawData(read_stack(test["B"], read, "unpaired folder"), None,
                       source=read_stack(test["A"], read, "unpaired folder"))
    return RawData(read_stack(train["B"], read, "unpaired folder"), None,
                   note=f"{len(train['A'])} images in A, {len(train['B'])} in B{note}",
                   source=read_stack(train["A"], read, "unpaired folder"), paired=False, held_out=held)

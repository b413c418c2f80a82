"""A folder, or a zip, of your own images. Class subfolders (or a zip's dataset.json) become
labels; files that are not readable images are skipped and counted, with the reason.

The first load decodes every file (in parallel) into a pack in the cache folder; later loads map
the pack (`pack.py`). Each image is read by `read_image` at the run's size, channels, background
and resize mode, so the pack holds exactly the pixels a run trains on.
"""
from __future__ import annotations

from typing import Optional

from ganlib.data import DATASETS, NEEDS_PATH, QUICK_FACTS, READS_FILES, DataFacts, DatasetUnavailable, Progress, RawData
from ganlib.data.image_files import ReadOptions
from ganlib.data.inspection import inspect
from ganlib.data.pack import packed
from ganlib.data.sources import SourceError, open_source


def load_files(kind: str, data_path: str, read: ReadOptions, progress: Optional[Progress] = None) -> RawData:
    """The pack of the folder or zip at `data_path`, as RawData (memory-mapped images)."""
    try:
        src = open_source(data_path)
    except SourceError as e:
        raise DatasetUnavailable(f"{kind} dataset: {e}") from None
    if kind == "zip" and src.kind != "zip":
        raise DatasetUnavailable(f"zip dataset: {data_path} is a folder; choose the folder dataset for it")
    if not src.entries:
        raise DatasetUnavailable(f"{kind} dataset: no readable images in {src.path}: it is empty"
                                 + (f" ({src.left_out[0]})" if src.left_out else ""))
    try:
        pack = packed(src, ReadOptions(read.size or 64, read.channels or 3, read.background, read.resize_mode),
                      progress)
    except ValueError as e:
        raise DatasetUnavailable(f"{kind} dataset: {e}") from None
    n, skipped = len(pack.images), pack.skipped
    note = f"{n} images" + (f" in {len(pack.class_names)} classes" if pack.class_names else "")
    note += f"; {len(skipped)} unreadable or non-image files skipped (first: {skipped[0]})" if skipped else ""
    return RawData(pack.images, pack.labels, pack.class_names, note)


def quick_facts(data_path: str, kind: str = "folder") -> DataFacts:
    """From the headers alone (the inspector), so a form checks a config without packing."""
    try:
        report = inspect(data_path)
    except SourceError as e:
        raise DatasetUnavailable(f"{kind} dataset: {e}") from None
    return DataFacts(report.n_images, bool(report.classes), "images")


@DATASETS.register("folder")
def load_folder(data_path: str = "", read: ReadOptions = ReadOptions(64, 3), progress=None) -> RawData:
    return load_files("folder", data_path, read, progress)


@DATASETS.register("zip")
def load_zip(data_path: str = "", read: ReadOptions = ReadOptions(64, 3), progress=None) -> RawData:
    return load_files("zip", data_path, read, progress)


QUICK_FACTS.add("folder", quick_facts)
QUICK_FACTS.add("zip", lambda data_path: quick_facts(data_path, "zip"))
NEEDS_PATH.update(("folder", "zip"))
READS_FILES.update(("folder", "zip", "paired_folder", "unpaired_folder"))

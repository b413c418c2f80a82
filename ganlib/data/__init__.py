"""Layer 1 (a plugin), data: the dataset registry, one file per loader, the one image reader,
the inspector and preview, the pack cache, and the run's data on its training device (uint8,
streamed when it does not fit). It imports only core; models, losses and everything above use it.

A loader returns raw images as a uint8 tensor (N, C, H, W) with optional int64 labels; a folder
or zip of files is decoded once, in parallel, into a pack (`pack.py`) that later loads map.
`load_dataset` keeps the pixels uint8 on the device (`on_device.ImageData`), where each batch is
converted to float in [-1, 1] at the run's channels and size, so the training loop only indexes
a resident tensor (or takes prefetched batches of a memory-mapped one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Optional

import torch

from ganlib.core.errors import ConfigError, UserError
from ganlib.core.registry import Registry
from ganlib.data.image_files import ReadOptions
from ganlib.data.on_device import Fits, ImageData, to_model_range  # noqa: F401 - ImageData is the data API


class DatasetUnavailable(UserError, RuntimeError):
    """The data cannot be had (offline, missing folder, no images); the message says what to do."""


@dataclass
class RawData:
    images: torch.Tensor  # uint8 (N, C, H, W) on the CPU (memory-mapped for a pack)
    labels: Optional[torch.Tensor]  # int64 (N,) or None
    class_names: list[str] = field(default_factory=list)
    note: str = ""  # e.g. how many files were skipped
    # Image-to-image translation (see ganlib/data/translation.py): `images` is domain B (the
    # target) and `source` domain A; `paired` means source[i] translates to images[i].
    source: Optional[torch.Tensor] = None
    source_labels: Optional[torch.Tensor] = None
    paired: bool = False
    held_out: Optional["RawData"] = None  # the fixed test split that grids and metrics use


Progress = Callable[[float, str], None]  # (fraction done, what is happening)
# (data_path, how to read files: size, channels, background, resize mode, progress) -> raw images
Loader = Callable[[str, ReadOptions, Optional[Progress]], RawData]
DATASETS: Registry[Loader] = Registry("dataset")
# A training split -> the dataset of real images a run trained on it has never seen, which
# experiments may test on as new data (mnist5k_train -> mnist5k_heldout).
HELDOUT_SPLITS: Registry[str] = Registry("held-out split")
NO_PATH_DATASETS: set[str] = set()  # datasets that never read data_path (bundled with a package); loaders add theirs
NEEDS_PATH: set[str] = set()  # a folder or zip of your own images at data_path (inspected, previewed; no path refused)
MAY_DOWNLOAD: set[str] = set()  # loaders that fetch from the internet without a local copy; loaders add theirs
READS_FILES: set[str] = set()  # loaders whose images go through read_image (background, resize_mode apply)
NATIVE_SHAPES: dict[str, tuple[int, int]] = {}  # a built-in set's own (size, channels); loaders add theirs


@dataclass(frozen=True)
class DataFacts:
    """What the config checks need to know about a dataset, without converting it."""
    n_images: int
    has_labels: bool
    kind: str  # "images", or translation data that is "paired" or "unpaired"


# Datasets that can say their facts without decoding every image (a folder or a zip: its
# inspection), so a form checks a config the moment a path is typed.
QUICK_FACTS: Registry[Callable[[str], DataFacts]] = Registry("quick data facts")


def data_facts(name: str, data_path: str = "", image_size: int = 64, max_images: int = 0) -> Optional[DataFacts]:
    """The facts of a local dataset, so a form can check a config before Start; None for a
    dataset that may download (a form must not start a download; training checks it)."""
    if name in MAY_DOWNLOAD:
        return None
    if name in QUICK_FACTS:
        facts = QUICK_FACTS.get(name)(data_path)
    else:
        raw = load_raw(name, data_path, image_size)
        kind = "images" if raw.source is None else "paired" if raw.paired else "unpaired"
        facts = DataFacts(len(raw.images), raw.labels is not None, kind)
    n = facts.n_images
    return DataFacts(min(n, max_images) if max_images else n, facts.has_labels, facts.kind)


def load_raw(name: str, data_path: str = "", image_size: int = 64, *, channels: Optional[int] = None,
             background: str = "white", resize_mode: str = "crop", progress: Optional[Progress] = None) -> RawData:
    return DATASETS.get(name)(data_path, ReadOptions(image_size, channels, background, resize_mode), progress)


def load_dataset(name: str, *, data_path: str = "", channels: int = 1, image_size: int = 28,
                 max_images: int = 0, device: torch.device | str = "cpu", direction: str = "AtoB",
                 background: str = "white", resize_mode: str = "crop", fits: Optional[Fits] = None,
                 progress: Optional[Progress] = None) -> ImageData:
    """`fits(n_images, num_classes, pixel_bytes)`, when given, decides before anything moves to
    the device whether the pixels stay there (True) or stream from host memory (False), or
    refuses the run (the engine's memory check)."""
    raw = load_raw(name, data_path, image_size, channels=channels, background=background, resize_mode=resize_mode,
                   progress=progress)
    if direction == "BtoA" and raw.source is not None:
        raw = swapped(raw)
    resident = True
    if fits is not None:
        n = min(len(raw.images), max_images) if max_images else len(raw.images)
        per_image = raw.images[0].numel() if len(raw.images) else 0
        resident = fits(n, len(raw.class_names), n * per_image)
        if not resident and raw.source is not None:
            raise ConfigError("max_images", f"translation data is kept on the device whole and {name} does not "
                                            "fit there: lower max_images or image_size")
    return _to_device(raw, name, channels, image_size, max_images, torch.device(device), resident)


def _to_device(raw: RawData, name: str, channels: int, image_size: int, max_images: int,
               device: torch.device, resident: bool = True) -> ImageData:
    """The pixels stay uint8: copied onto the device (a copy also on the CPU, so the run owns
    them), or left in host memory to stream. Labels always go to the device."""
    def cut(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return t[:max_images] if t is not None and max_images else t

    def move(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return t.to(device, copy=True) if t is not None else None

    images, labels = cut(raw.images), cut(raw.labels)
    if images.shape[0] == 0:
        raise DatasetUnavailable(f"dataset {name!r} has no images")
    held = _to_device(raw.held_out, name, channels, image_size, 0, device) if raw.held_out is not None else None
    return ImageData(move(images) if resident else images, move(labels), raw.class_names, name, raw.note,
                     move(cut(raw.source)), move(cut(raw.source_labels)), raw.paired, held, channels=channels,
                     image_size=image_size, device=device, streamed=not resident)


def swapped(raw: RawData) -> RawData:
    """The same translation data in the other direction (BtoA): domains A and B trade places."""
    held = swapped(raw.held_out) if raw.held_out is not None else None
    return RawData(raw.source, raw.source_labels, raw.class_names, raw.note, raw.images, raw.labels, raw.paired, held)


# The config fields that say which images a run trains on: they key the viewers' dataset cache
# and the metrics' cache of real statistics, so every reader agrees on what "the run's data" is.
DATA_FIELDS = ("dataset", "data_path", "channels", "image_size", "max_images")
# Fields that say it only when they differ from their default, so the keys of every run that
# keeps the default stay as they were before the field existed.
DATA_FIELDS_IF_SET = {"direction": "AtoB", "background": "white", "resize_mode": "crop"}


def data_fields(cfg: Any) -> dict[str, Any]:
    """The DATA_FIELDS of a config (any object that has them), and each of DATA_FIELDS_IF_SET
    (the translation direction, the background, the resize mode) that is not its default."""
    out = {k: getattr(cfg, k) for k in DATA_FIELDS}
    for k, default in DATA_FIELDS_IF_SET.items():
        if getattr(cfg, k, default) != default:
            out[k] = getattr(cfg, k)
    return out


def load_run_data(cfg: Any, device: torch.device | str = "cpu", fits: Optional[Fits] = None,
                  progress: Optional[Progress] = None) -> ImageData:
    """A run's data as the engine trains on it."""
    d = data_fields(cfg)
    return load_dataset(d.pop("dataset"), device=device, fits=fits, progress=progress, **d)


def cached_run_data(cfg: Any, device: torch.device | str = "cpu") -> ImageData:
    """`load_run_data` for viewers (Evaluate, the explorers, Real or fake): the last two
    datasets stay in memory. Read only: the engine loads its own copy, which it may relayout."""
    return _cached(tuple(data_fields(cfg).items()), str(device))


@lru_cache(maxsize=2)
def _cached(fields: tuple, device: str) -> ImageData:
    d = dict(fields)
    return load_dataset(d.pop("dataset"), device=device, **d)


# Registration: one import per loader file.
# isort: off
from ganlib.data import mnist5k as _mnist5k  # noqa: E402,F401
from ganlib.data import mnist5k_split as _mnist5k_split  # noqa: E402,F401
from ganlib.data import torchvision_sets as _tv  # noqa: E402,F401
from ganlib.data import folder as _folder  # noqa: E402,F401
from ganlib.data import edges2digits as _edges2digits  # noqa: E402,F401
from ganlib.data import digits2styled as _digits2styled  # noqa: E402,F401
from ganlib.data import paired_folder as _paired_folder  # noqa: E402,F401
from ganlib.data import unpaired_folder as _unpaired_folder  # noqa: E402,F401
from ganlib.data import emoji as _emoji  # noqa: E402,F401
# isort: on

"""Layer 1 (a plugin), data: the dataset registry, one file per loader, and the conversion of
raw images into one float tensor on the training device. It imports only core; models,
losses and everything above use it.

Datasets: a registry of loaders, each turned once into one tensor on the training device.

A loader returns raw images as a uint8 tensor (N, C, H, W) with optional int64 labels.
`load_dataset` converts them to the run's channels and size, scales them to [-1, 1] and moves
them to the device in one copy, so the training loop only indexes a resident tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F

from ganlib.core.errors import UserError
from ganlib.core.registry import Registry


class DatasetUnavailable(UserError, RuntimeError):
    """The data cannot be had (offline, missing folder, no images); the message says what to do."""


@dataclass
class RawData:
    images: torch.Tensor  # uint8 (N, C, H, W) on the CPU
    labels: Optional[torch.Tensor]  # int64 (N,) or None
    class_names: list[str] = field(default_factory=list)
    note: str = ""  # e.g. how many files were skipped
    # Image-to-image translation (see ganlib/data/translation.py): `images` is domain B (the
    # target) and `source` domain A; `paired` means source[i] translates to images[i].
    source: Optional[torch.Tensor] = None
    source_labels: Optional[torch.Tensor] = None
    paired: bool = False
    held_out: Optional["RawData"] = None  # the fixed test split that grids and metrics use


@dataclass
class ImageData:
    images: torch.Tensor  # float32 (N, C, H, W) in [-1, 1], on the training device
    labels: Optional[torch.Tensor]  # int64 (N,) on the same device, or None
    class_names: list[str]
    name: str
    note: str = ""
    source: Optional[torch.Tensor] = None  # domain A (float, same device), for translation data
    source_labels: Optional[torch.Tensor] = None
    paired: bool = False
    held_out: Optional["ImageData"] = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]


Loader = Callable[[str, int], RawData]  # (data_path, wanted image size: a hint for folders)
DATASETS: Registry[Loader] = Registry("dataset")
# A training split -> the dataset of real images a run trained on it has never seen, which
# experiments may test on as new data (mnist5k_train -> mnist5k_heldout).
HELDOUT_SPLITS: Registry[str] = Registry("held-out split")
NO_PATH_DATASETS: set[str] = set()  # datasets that never read data_path (bundled with a package); loaders add theirs
MAY_DOWNLOAD: set[str] = set()  # loaders that fetch from the internet without a local copy; loaders add theirs


@dataclass(frozen=True)
class DataFacts:
    """What the config checks need to know about a dataset, without converting it."""
    n_images: int
    has_labels: bool
    kind: str  # "images", or translation data that is "paired" or "unpaired"


def data_facts(name: str, data_path: str = "", image_size: int = 64, max_images: int = 0) -> Optional[DataFacts]:
    """The facts of a local dataset, so a form can check a config before Start; None for a
    dataset that may download (a form must not start a download; training checks it)."""
    if name in MAY_DOWNLOAD:
        return None
    raw = load_raw(name, data_path, image_size)
    n = len(raw.images)
    kind = "images" if raw.source is None else "paired" if raw.paired else "unpaired"
    return DataFacts(min(n, max_images) if max_images else n, raw.labels is not None, kind)


def load_raw(name: str, data_path: str = "", image_size: int = 64) -> RawData:
    return DATASETS.get(name)(data_path, image_size)


def load_dataset(name: str, *, data_path: str = "", channels: int = 1, image_size: int = 28,
                 max_images: int = 0, device: torch.device | str = "cpu", direction: str = "AtoB",
                 fits: Optional[Callable[[int, int], None]] = None) -> ImageData:
    """`fits(n_images, num_classes)`, when given, may refuse the data before it is converted
    to float32 and moved to the device (the engine's memory check)."""
    raw = load_raw(name, data_path, image_size)
    if direction == "BtoA" and raw.source is not None:
        raw = swapped(raw)
    if fits is not None:
        n = len(raw.images)
        fits(min(n, max_images) if max_images else n, len(raw.class_names))
    return _to_device(raw, name, channels, image_size, max_images, device)


def _to_device(raw: RawData, name: str, channels: int, image_size: int, max_images: int,
               device: torch.device | str) -> ImageData:
    def cut(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return t[:max_images] if t is not None and max_images else t

    def move(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return t.to(device) if t is not None else None

    images, labels = cut(raw.images), cut(raw.labels)
    if images.shape[0] == 0:
        raise DatasetUnavailable(f"dataset {name!r} has no images")
    x = to_model_range(images, channels, image_size)
    source = cut(raw.source)
    src = to_model_range(source, channels, image_size).to(device) if source is not None else None
    held = _to_device(raw.held_out, name, channels, image_size, 0, device) if raw.held_out is not None else None
    return ImageData(x.to(device), move(labels), raw.class_names, name, raw.note, src, move(cut(raw.source_labels)),
                     raw.paired, held)


def swapped(raw: RawData) -> RawData:
    """The same translation data in the other direction (BtoA): domains A and B trade places."""
    held = swapped(raw.held_out) if raw.held_out is not None else None
    return RawData(raw.source, raw.source_labels, raw.class_names, raw.note, raw.images, raw.labels, raw.paired, held)


# The config fields that say which images a run trains on: they key the viewers' dataset cache
# and the metrics' cache of real statistics, so every reader agrees on what "the run's data" is.
DATA_FIELDS = ("dataset", "data_path", "channels", "image_size", "max_images")


def data_fields(cfg: Any) -> dict[str, Any]:
    """The DATA_FIELDS of a config (any object that has them), and the translation direction
    when it is not the default (so the keys of every other run stay as they were)."""
    out = {k: getattr(cfg, k) for k in DATA_FIELDS}
    if getattr(cfg, "direction", "AtoB") != "AtoB":
        out["direction"] = cfg.direction
    return out


def load_run_data(cfg: Any, device: torch.device | str = "cpu",
                  fits: Optional[Callable[[int, int], None]] = None) -> ImageData:
    """A run's data as the engine trains on it."""
    d = data_fields(cfg)
    return load_dataset(d.pop("dataset"), device=device, fits=fits, **d)


def cached_run_data(cfg: Any, device: torch.device | str = "cpu") -> ImageData:
    """`load_run_data` for viewers (Evaluate, the explorers, Real or fake): the last two
    datasets stay in memory. Read only: the engine loads its own copy, which it may relayout."""
    return _cached(tuple(data_fields(cfg).items()), str(device))


@lru_cache(maxsize=2)
def _cached(fields: tuple, device: str) -> ImageData:
    d = dict(fields)
    return load_dataset(d.pop("dataset"), device=device, **d)


def to_model_range(images: torch.Tensor, channels: int, size: int, chunk: int = 4096) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 in [-1, 1] with the wanted channels and square size."""
    out = []
    for part in images.split(chunk):
        x = part.float().div_(127.5).sub_(1.0)
        if x.shape[1] != channels:
            if channels == 1:  # ITU-R 601 luma, as PIL's convert("L")
                w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
                x = (x[:, :3] * w).sum(1, keepdim=True)
            else:
                x = x[:, :1].expand(-1, 3, -1, -1)
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(x.clamp_(-1, 1).contiguous())
    return torch.cat(out)


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
# isort: on

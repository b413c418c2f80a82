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

from ganlib.core.registry import Registry


class DatasetUnavailable(RuntimeError):
    """The data cannot be had (offline, missing folder, no images); the message says what to do."""


@dataclass
class RawData:
    images: torch.Tensor  # uint8 (N, C, H, W) on the CPU
    labels: Optional[torch.Tensor]  # int64 (N,) or None
    class_names: list[str] = field(default_factory=list)
    note: str = ""  # e.g. how many files were skipped


@dataclass
class ImageData:
    images: torch.Tensor  # float32 (N, C, H, W) in [-1, 1], on the training device
    labels: Optional[torch.Tensor]  # int64 (N,) on the same device, or None
    class_names: list[str]
    name: str
    note: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]


Loader = Callable[[str, int], RawData]  # (data_path, wanted image size: a hint for folders)
DATASETS: Registry[Loader] = Registry("dataset")


def load_raw(name: str, data_path: str = "", image_size: int = 64) -> RawData:
    return DATASETS.get(name)(data_path, image_size)


def load_dataset(name: str, *, data_path: str = "", channels: int = 1, image_size: int = 28,
                 max_images: int = 0, device: torch.device | str = "cpu",
                 fits: Optional[Callable[[int, int], None]] = None) -> ImageData:
    """`fits(n_images, num_classes)`, when given, may refuse the data before it is converted
    to float32 and moved to the device (the engine's memory check)."""
    raw = load_raw(name, data_path, image_size)
    images, labels = raw.images, raw.labels
    if max_images and max_images < images.shape[0]:
        images, labels = images[:max_images], (labels[:max_images] if labels is not None else None)
    if images.shape[0] == 0:
        raise DatasetUnavailable(f"dataset {name!r} has no images")
    if fits is not None:
        fits(images.shape[0], len(raw.class_names))
    x = to_model_range(images, channels, image_size)
    return ImageData(x.to(device), labels.to(device) if labels is not None else None,
                     raw.class_names, name, raw.note)


# The config fields that say which images a run trains on: they key the viewers' dataset cache
# and the metrics' cache of real statistics, so every reader agrees on what "the run's data" is.
DATA_FIELDS = ("dataset", "data_path", "channels", "image_size", "max_images")


def data_fields(cfg: Any) -> dict[str, Any]:
    """The DATA_FIELDS of a config (any object that has them)."""
    return {k: getattr(cfg, k) for k in DATA_FIELDS}


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
from ganlib.data import torchvision_sets as _tv  # noqa: E402,F401
from ganlib.data import folder as _folder  # noqa: E402,F401
# isort: on

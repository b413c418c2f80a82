"""A run's data where it trains: uint8 pixels on the device, turned into float in [-1, 1] one
batch at a time.

    data.batch(idx)        # float32 (B, C, S, S) on the device: what a training step takes
    data.first(n)          # the first n images as float (metrics' real reference, the VAE's grid)
    data.images            # every image as float, made once and kept (viewers; never the engine)

uint8 is a quarter of float32's memory, and a batch converted on the device is bit-identical to
the same rows of the whole set converted at once (`to_model_range` works image by image), so a
run resumed across the change trains exactly as before. When the memory check says the pixels
do not fit the device, they stay in host memory (a memory-mapped pack) and `begin_epoch` starts
a `streaming.Prefetcher` that gathers each step's rows ahead of time on a background thread.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from ganlib.data.streaming import Prefetcher

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601, as PIL's convert("L")


def to_model_range(images: torch.Tensor, channels: int, size: int, chunk: int = 4096,
                   memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 in [-1, 1] with the wanted channels and square size,
    computed image by image (so any subset of rows converts to the same values)."""
    out = []
    for part in images.split(chunk):
        x = part.float().div_(127.5).sub_(1.0)
        if x.shape[1] != channels:
            if channels == 1:
                w = torch.tensor(LUMA, device=x.device).view(1, 3, 1, 1)
                x = (x[:, :3] * w).sum(1, keepdim=True)
            else:
                x = x[:, :1].expand(-1, 3, -1, -1)
        if x.shape[-2:] != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(x.contiguous(memory_format=memory_format).clamp_(-1, 1))  # contiguous first: an expand is a view
    return torch.cat(out) if len(out) != 1 else out[0]


class ImageData:
    """Images (uint8 pixels, or float in [-1, 1] that a caller made) with their labels, class
    names and, for translation data, domain A (`source`), `paired` and a `held_out` split."""

    def __init__(self, pixels: torch.Tensor, labels: Optional[torch.Tensor], class_names: list[str], name: str,
                 note: str = "", source: Optional[torch.Tensor] = None, source_labels: Optional[torch.Tensor] = None,
                 paired: bool = False, held_out: Optional["ImageData"] = None, *, channels: Optional[int] = None,
                 image_size: Optional[int] = None, device: torch.device | str | None = None, streamed: bool = False):
        self.pixels = pixels  # uint8 (N, C, H, W) on the device (on the host when streamed), or float
        self.labels = labels  # int64 (N,) on the device, or None
        self.class_names = list(class_names)
        self.name, self.note = name, note
        self.source_pixels = source  # domain A, as `pixels`
        self.source_labels = source_labels
        self.paired = paired
        self.held_out = held_out
        self.channels = channels or pixels.shape[1]
        self.image_size = image_size or pixels.shape[-1]
        self.device = torch.device(device) if device is not None else pixels.device
        self.streamed = streamed
        self.memory_format = torch.contiguous_format  # the trainer sets channels_last for conv models
        self._float: dict[str, torch.Tensor] = {}
        self._feed: Optional[Prefetcher] = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.pixels.shape[0]

    # ---- what training reads ---------------------------------------------------------------
    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels (any rows of `pixels`) as the model sees them, on the device."""
        if x.is_floating_point():
            return x
        return to_model_range(x.to(self.device, non_blocking=True), self.channels, self.image_size,
                              memory_format=self.memory_format)

    def batch(self, idx: torch.Tensor) -> torch.Tensor:
        """The rows `idx` as float on the device: gathered from the resident pixels, or the next
        batch of the epoch's prefetcher when the data streams."""
        if self._feed is not None:
            return self.to_float(self._feed.take(idx))
        if self.streamed:  # outside an epoch (the compile probe): a direct gather, once
            return self.to_float(self.pixels[idx.cpu()])
        return self.to_float(self.pixels[idx])

    def source_batch(self, idx: torch.Tensor) -> torch.Tensor:
        return self.to_float(self.source_pixels[idx])

    def begin_epoch(self, order: list[torch.Tensor]) -> None:
        """Streamed data: start gathering these index batches (CPU tensors), in this order."""
        self.end_epoch()
        if self.streamed:
            self._feed = Prefetcher(self.pixels, order, self.device)

    def end_epoch(self) -> None:
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    def first(self, n: int) -> torch.Tensor:
        """The first `n` images as float on the device, without converting the rest."""
        if "images" in self._float:
            return self._float["images"][:n]
        return self.to_float(self.pixels[:n])

    # ---- what viewers read ------------------------------------------------------------------
    @property
    def images(self) -> torch.Tensor:
        """Every image as float on the device, made on first use and kept: for viewers (nearest
        images, Real or fake, the explorers). The engine never reads it."""
        return self._whole("images", self.pixels)

    @property
    def source(self) -> Optional[torch.Tensor]:
        return None if self.source_pixels is None else self._whole("source", self.source_pixels)

    def _whole(self, key: str, pixels: torch.Tensor) -> torch.Tensor:
        if key not in self._float:
            self._float[key] = pixels if pixels.is_floating_point() else torch.cat(
                [self.to_float(part) for part in pixels.split(4096)])
        return self._float[key]

    def relayout(self, memory_format: torch.memory_format) -> None:
        """Keep the pixels (and so every batch) in `memory_format` (channels_last for conv models)."""
        self.memory_format = memory_format
        if not self.streamed and self.pixels.dim() == 4:
            self.pixels = self.pixels.contiguous(memory_format=memory_format)
            if self.source_pixels is not None:
                self.source_pixels = self.source_pixels.contiguous(memory_format=memory_format)

    def subset(self, n: int) -> "ImageData":
        """The first `n` images (and labels) as a new ImageData."""
        lab = self.labels[:n] if self.labels is not None else None
        return ImageData(self.pixels[:n], lab, self.class_names, self.name, channels=self.channels,
                         image_size=self.image_size, device=self.device)


Fits = Callable[[int, int, int], bool]  # (images, classes, bytes of their pixels) -> resident? (or raise)

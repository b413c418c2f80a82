"""One epoch of a run, looked at closely: its fixed-noise grid and, tile by tile, the nearest
training image of each sample. This is what opens when a user clicks a point on a curve.

    ins = inspect_epoch(run, epoch=12)          # the saved grid of epoch 12 (or the nearest one)
    ins.grid_png, ins.neighbours_png            # the samples, and their nearest training images
    ins.distances                               # (N,) pixel L2 of each tile to its neighbour

It works from the grid PNG the run saved after every epoch, not from a checkpoint (those exist
only every few epochs): the tiles are cut back out of the grid, so any epoch with a grid can be
inspected. The PNG holds 8-bit pixels, so a tile differs from the generator's output by at
most half a grey level; far below the distances that matter (a digit's nearest other digit
lies 5 to 15 away in [-1, 1] pixel units).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue, NotFound
from ganlib.core.images import grid_image, png_bytes
from ganlib.data import cached_run_data
from ganlib.metrics.memorisation import nearest_training
from ganlib.store.run_folder import Run

PADDING = 2  # what images.save_grid (laid out as torchvision make_grid) puts around every tile


def grid_tiles(path: str | Path, image_size: int, padding: int = PADDING) -> tuple[torch.Tensor, int]:
    """The tiles of a saved grid as float (N, C, H, W) in [-1, 1], and the number of columns.
    Rows that are all padding (an incomplete last row) are dropped."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("L") if im.mode in ("L", "1", "P", "LA") else im.convert("RGB"))
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w, c = arr.shape
    cell = image_size + padding
    ncol, nrow = (w - padding) // cell, (h - padding) // cell
    if ncol < 1 or nrow < 1 or ncol * cell + padding != w or nrow * cell + padding != h:
        raise BadValue(f"{Path(path).name} is {w}x{h} px: not a grid of {image_size}-px images "
                         f"with {padding}-px padding")
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div(127.5).sub(1)
    tiles = [x[:, padding + r * cell: padding + r * cell + image_size,
               padding + k * cell: padding + k * cell + image_size]
             for r in range(nrow) for k in range(ncol)]
    out = torch.stack(tiles)
    blank = (out == 1.0).flatten(1).all(dim=1)  # the grid pads a short last row with white
    while out.shape[0] > ncol and bool(blank[-ncol:].all()):
        out, blank = out[:-ncol], blank[:-ncol]
    return out, ncol


def nearest_grid_epoch(run: Run, epoch: float) -> Optional[int]:
    """The saved grid's epoch closest to `epoch` (a click may land between grids)."""
    epochs = [e for e, _ in run.samples()]
    return min(epochs, key=lambda e: (abs(e - epoch), e)) if epochs else None


@dataclass
class EpochInspection:
    run: str
    epoch: int
    grid_png: bytes  # the samples, enlarged
    neighbours_png: bytes  # tile for tile, the nearest training image of each sample
    distances: list[float]  # pixel L2 (images in [-1, 1]) of each tile to its neighbour
    train_indices: list[int]
    n_train: int
    columns: int

    @property
    def median(self) -> float:
        return float(np.median(self.distances))

    def closest(self, k: int) -> list[tuple[int, int, float]]:
        """(tile, training index, distance) of the k closest tiles, closest first."""
        order = np.argsort(self.distances, kind="stable")[:k]
        return [(int(i), self.train_indices[i], self.distances[i]) for i in order]


@torch.no_grad()
def inspect_epoch(run: Run, epoch: float, *, device: str = "cpu", scale: int = 2) -> EpochInspection:
    """The grid of the saved epoch nearest `epoch` and each tile's nearest training image."""
    grid_epoch = nearest_grid_epoch(run, epoch)
    if grid_epoch is None:
        raise NotFound(f"run {run.name} has no sample grid yet")
    cfg = run.config()
    tiles, ncol = grid_tiles(run.sample_path(grid_epoch), cfg.image_size)
    data = cached_run_data(cfg, device)
    if tiles.shape[1:] != data.images.shape[1:]:
        raise BadValue(f"the grid's images are {tuple(tiles.shape[1:])} but the run's data is "
                         f"{tuple(data.images.shape[1:])}")
    nn = nearest_training(tiles.to(device), data.images)
    idx = nn.indices.cpu()
    neighbours = data.images[idx.to(data.images.device)].cpu()
    return EpochInspection(
        run=run.name, epoch=grid_epoch,
        grid_png=png_bytes(grid_image(tiles, nrow=ncol, scale=scale)),
        neighbours_png=png_bytes(grid_image(neighbours, nrow=ncol, scale=scale)),
        distances=nn.distances.cpu().tolist(), train_indices=idx.tolist(), n_train=len(data), columns=ncol)

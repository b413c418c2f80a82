"""Built-in paired task: edge maps of mnist5k's digits (A) -> the digits (B), labels kept.
4,000 training pairs (`mnist5k_train`); `mnist5k_heldout`'s 1,000 digits are the fixed held-out split."""
from __future__ import annotations

from functools import lru_cache

from ganlib.data import DATASETS, NO_PATH_DATASETS, RawData
from ganlib.data.translation import edges, mnist_split


@DATASETS.register("edges2digits")
def load_edges2digits(data_path: str = "", read=None, progress=None) -> RawData:
    return _built()


@lru_cache(maxsize=1)
def _built() -> RawData:
    train, test = mnist_split()
    held = RawData(test.images, test.labels, test.class_names, source=edges(test.images),
                   source_labels=test.labels, paired=True)
    return RawData(train.images, train.labels, train.class_names, "edges2digits: 4,000 pairs, 1,000 held out",
                   edges(train.images), train.labels, True, held)


NO_PATH_DATASETS.add("edges2digits")

"""Built-in unpaired task: mnist5k digits as they are (A) <-> the same style of digits with
strokes about 2 px thicker (B). The two training domains come from disjoint halves of the
4,000 training digits (2,000 each), so no pair exists; labels travel with every image so that
content preservation can be measured. The held-out split (`mnist5k_heldout`'s 1,000 digits) is paired,
each digit with its own thick version, so L1, PSNR and SSIM have a ground truth."""
from __future__ import annotations

from functools import lru_cache

from ganlib.data import DATASETS, NO_PATH_DATASETS, RawData
from ganlib.data.translation import mnist_split, thicken


@DATASETS.register("digits2styled")
def load_digits2styled(data_path: str = "", read=None, progress=None) -> RawData:
    return _built()


@lru_cache(maxsize=1)
def _built() -> RawData:
    train, test = mnist_split()
    half = train.images.shape[0] // 2
    held = RawData(thicken(test.images), test.labels, test.class_names, source=test.images,
                   source_labels=test.labels, paired=True)
    return RawData(thicken(train.images[half:]), train.labels[half:], train.class_names,
                   "digits2styled: 2,000 thin and 2,000 other thick digits (unpaired), 1,000 held out",
                   train.images[:half], train.labels[:half], False, held)


NO_PATH_DATASETS.add("digits2styled")

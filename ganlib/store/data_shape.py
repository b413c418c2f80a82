"""The image size and channels a run's data suggests, at a size its model takes: what the Train
form's data panel offers to apply and what a CLI folder run takes when the flags leave them out.

    size, channels, why = suggested_shape({"dataset": "folder", "data_path": "icons", "model": "dcgan"})
"""
from __future__ import annotations

from typing import Any, Optional

from ganlib.core.errors import ConfigError
from ganlib.data.inspection import CANDIDATE_SIZES
from ganlib.data.inspection import suggested_shape as data_shape
from ganlib.store.config import TrainConfig


def suggested_shape(values: dict[str, Any]) -> Optional[tuple[int, int, str]]:
    """(image_size, channels, why) for a run on these values' data: what the data suggests
    (`data.inspection.suggested_shape`), the size lowered to the largest one the chosen model
    accepts, or raised to its smallest when it takes none that small (the channels stay the
    data's either way). None for data that suggests nothing (a download, or no readable image)."""
    shape = data_shape(values.get("dataset", ""), values.get("data_path", ""))
    if shape is None:
        return None
    size, channels, why = shape
    for s in [c for c in CANDIDATE_SIZES if c <= size] + [c for c in reversed(CANDIDATE_SIZES) if c > size]:
        if not _takes(values, s, channels):
            continue
        if s < size:
            why += f"; {values.get('model')} takes {s}, not {size}"
        elif s > size:  # the model takes nothing this small: enlarge, but keep the data's channels
            why += f"; {values.get('model')} takes no size up to {size}, so {s}: the smaller images are enlarged"
        return s, channels, why
    return None


def _takes(values: dict[str, Any], size: int, channels: int) -> bool:
    try:
        TrainConfig.from_dict({**values, "image_size": size, "channels": channels})
    except ConfigError as e:
        return e.field != "image_size"
    return True

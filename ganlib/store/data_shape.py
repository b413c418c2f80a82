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
    accepts. None for data that suggests nothing (a download, or no readable image)."""
    shape = data_shape(values.get("dataset", ""), values.get("data_path", ""))
    if shape is None:
        return None
    size, channels, why = shape
    for s in [c for c in CANDIDATE_SIZES if c <= size]:
        try:
            TrainConfig.from_dict({**values, "image_size": s, "channels": channels})
        except ConfigError as e:
            if e.field == "image_size":
                continue
        if s != size:
            why += f"; {values.get('model')} takes {s}, not {size}"
        return s, channels, why
    return None

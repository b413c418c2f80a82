"""Reading numbers people and files give us: a metrics cell may be empty, text or NaN."""
from __future__ import annotations

from typing import Any, Optional


def finite_or_none(v: Any) -> Optional[float]:
    """A metrics cell as a float, None when it is empty, non-numeric or NaN."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f

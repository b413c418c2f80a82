"""Reading numbers people and files give us (a metrics cell may be empty, text, NaN or inf), and
writing durations for people. Every reader of a table cell goes through `number` or
`finite_or_none`, so "what counts as a number" has one answer.
"""
from __future__ import annotations

import math
from typing import Any, Optional


def number(v: Any) -> Optional[float]:
    """A cell as a float, None when it is empty or not a number. NaN and inf are kept: a
    diverged loss is evidence (the health verdict reads it)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def finite_or_none(v: Any) -> Optional[float]:
    """A cell as a float, None when it is empty, not a number, NaN or infinite: a value to show
    or plot."""
    f = number(v)
    return f if f is not None and math.isfinite(f) else None


def duration_text(s: Optional[float]) -> str:
    """Seconds as a person reads them: "42s", "3m 05s", "2h 07m"; "?" when unknown."""
    if s is None or not math.isfinite(s):
        return "?"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"

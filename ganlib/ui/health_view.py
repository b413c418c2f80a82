"""The health verdict as a coloured box: green when learning, blue when it is too early, yellow
for D winning or a stall, red for mode collapse, divergence or failure. The verdict itself is
`ganlib.metrics.health.verdict` (for a run: `ganlib.store.run_health.run_verdict`); this
module only draws it.

    health_view.box(run_verdict(run, rows))     # in the Train page's live fragment
"""
from __future__ import annotations

import streamlit as st

from ganlib.metrics.health import Verdict

# level -> the Streamlit box and its icon
BOXES = {
    "success": (st.success, ":material/check_circle:"),
    "info": (st.info, ":material/hourglass_top:"),
    "warning": (st.warning, ":material/warning:"),
    "error": (st.error, ":material/error:"),
}


def text(v: Verdict) -> str:
    """The box's markdown: headline, evidence, and the change to try."""
    out = f"**{v.headline}**" + (f" {v.detail}" if v.detail else "")
    return out + (f"  \n**Try:** {v.advice}" if v.advice else "")


def box(v: Verdict) -> None:
    draw, icon = BOXES[v.level]
    draw(text(v), icon=icon)

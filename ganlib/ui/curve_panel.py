"""The truncation curve's panel, one for the Latent explorer (truncation in Z) and the Style
explorer (in W): the stored curve, a button that measures it again with a progress bar, and
its chart, or a line saying it is not measured yet."""
from __future__ import annotations

from typing import Callable, Optional

import streamlit as st

from ganlib.explore.latent import TruncationCurve
from ganlib.ui.explorer import truncation_figure

Progress = Callable[[float, str], None]


def truncation_curve_panel(curve: Optional[TruncationCurve], measure: Callable[[Progress], TruncationCurve],
                           current: Optional[float], key: str, missing: str) -> None:
    """`measure(progress)` recomputes the curve; widget keys are `{key}_go` and `{key}_chart`."""
    if st.button("Measure again" if curve else "Measure the curve", key=f"{key}_go",
                 icon=":material/query_stats:", type="secondary" if curve else "primary"):
        bar = st.progress(0.0, text="Starting")
        try:
            curve = measure(lambda f, t: bar.progress(min(1.0, f), text=t))
        except Exception as e:  # noqa: BLE001 - data or extractor missing: say so, keep the page
            st.error(f"Could not measure the curve: {e}", icon=":material/error:")
        bar.empty()
    if curve:
        st.plotly_chart(truncation_figure(curve, current), key=f"{key}_chart")
        if curve.note:
            st.caption(curve.note)
    else:
        st.info(missing, icon=":material/info:")

"""Layer 8, ui: the thin Streamlit helpers behind `app.py` and `pages/`, and the only library
code that imports streamlit (and plotly). It may import every layer below; pages import it and
the library, never torch.

Thin Streamlit helpers for the dashboard (`app.py`, `pages/`): the only part of ganlib that
imports streamlit.

    core         runs folder, the per-process JobManager, run pickers, device report
    config_form  TrainConfig widgets drawn from `ganlib.store.config.field_specs()` metadata, the preset picker
    health_view  the run's health verdict as a coloured box
    charts       Plotly figures of a run's metrics
    augment_view the Augment page's runner (one per process), accuracy and GAN-test figures

Pages import these instead of torch; the library below them never calls `st.*`.
"""
from ganlib.ui.core import device_info, get_job_manager, list_runs, runs_root  # noqa: E402,F401

"""Layer 8, ui: the thin Streamlit helpers behind `app.py` and `app_pages/`, and the only library
code that imports streamlit (and plotly). It may import every layer below; pages import it and
the library, never torch.

    navigation   the page list (one `PAGES`), the sidebar's sections, the old addresses
    resources    the per-process objects (`st.cache_resource`): the task runner, the job
                 manager and the augmentation runner on it; the device report
    pickers      the runs folder, the run / checkpoint / generator pickers
    config_form  TrainConfig widgets drawn from `ganlib.store.config.field_specs()` metadata, the
                 preset picker, the checks a form makes before Start
    health_view  the run's health verdict as a coloured box
    charts       Plotly figures of a run's metrics (labels from `metrics.metric_registry`)
    *_view       one page's or tab's pieces (evaluate, epoch, compare, sweep, augment,
                 playground, translate, walk, style)

Pages import these instead of torch; the library below them never calls `st.*`.
"""

"""Compare runs: pick several runs; see the config fields that differ, their curves overlaid on
shared axes (runs that differ only by seed also as one median line with its IQR band), their
FID during training (one chart per extractor and N, with the real-vs-real floor and each run's
untrained ceiling), their latest sample grids side by side, and clone any of them into Train.
The Families view puts a GAN, a VAE and a diffusion run side by side (`ui.families_view`)."""
import pandas as pd
import streamlit as st

from ganlib.core.errors import ConfigError
from ganlib.explore import run_comparison as compare
from ganlib.explore import seed_groups
from ganlib.ui import charts, pickers
from ganlib.ui.charts import load_grid
from ganlib.ui.compare_view import clone_to_train, overlay_figure, run_colors
from ganlib.ui.families_view import families_view
from ganlib.ui.reference_lines import run_untrained
from ganlib.ui.sweep_view import band_figure

PER_ROW = 4  # at most this many grids side by side

st.title("Compare runs")
runs = pickers.runs_or_stop("Compare runs")
view = st.segmented_control("View", ["Runs", "Families"], default="Runs", key="cmp_view",
                            help="Runs: any runs, their settings and curves. Families: a GAN, a VAE and a "
                                 "diffusion run side by side on quality, clock and sampling cost.")
if view == "Families":
    families_view(runs)
    st.stop()

by_name = {r.name: r for r in runs}
labels = {r.name: f"{r.name}  ({r.status().get('state', 'unknown')})" for r in runs}
if "cmp_runs" not in st.session_state:
    st.session_state["cmp_runs"] = list(by_name)[-2:]  # the two newest
elif any(n not in by_name for n in st.session_state["cmp_runs"]):  # a run folder was removed
    st.session_state["cmp_runs"] = [n for n in st.session_state["cmp_runs"] if n in by_name]
names = st.multiselect("Runs", list(by_name), key="cmp_runs", format_func=labels.get,
                       help="Pick two or more runs; the newest two are picked to start with.")
if not names:
    st.info("Pick at least one run to show.", icon=":material/info:")
    st.stop()
chosen = [by_name[n] for n in names]

# ---- config ---------------------------------------------------------------------------------
st.subheader("Settings that differ")
fields, rows = compare.config_diff(chosen)
if len(chosen) < 2:
    st.caption("One run picked: pick another to see what differs.")
elif not fields:
    st.info("These runs have identical configs.", icon=":material/info:")
else:
    st.dataframe(pd.DataFrame(rows).astype(str), hide_index=True, key="cmp_diff")
    st.caption(f"{len(fields)} of {len(compare.run_config(chosen[0])) or '?'} fields differ; "
               "the rest are the same for every picked run.")
with st.expander("All settings"):
    full = pd.DataFrame({r.name: {k: str(v) for k, v in compare.run_config(r).items()} for r in chosen})
    st.dataframe(full, key="cmp_full")

# ---- curves ---------------------------------------------------------------------------------
st.subheader("Curves")
columns = compare.curve_columns(chosen)
if not columns:
    st.info("None of these runs has finished an epoch yet.", icon=":material/info:")
else:
    picked = st.multiselect("Metrics", columns, default=compare.default_curves(columns), key="cmp_metrics",
                            format_func=compare.label)
    if picked:
        st.plotly_chart(overlay_figure(compare.curves(chosen, picked), names), key="cmp_curves")
        missing = [c for c in picked if len(compare.curves(chosen, [c])[c]) < len(chosen)]
        if missing:
            st.caption("Not every run has " + ", ".join(compare.label(c) for c in missing)
                       + " (metrics need live evaluation, eval_every > 0; VAEs log an ELBO, not GAN losses).")

# ---- seeds ------------------------------------------------------------------------------------
groups = [g for g in seed_groups.seed_groups(chosen) if len(g[1]) > 1]
if groups and columns and picked:
    st.subheader("Seed-replicated")
    st.caption(f"{sum(len(g) for _, g in groups)} of the picked runs differ only by seed and form {len(groups)} "
               "group(s): each line is the median over a group's seeds, the band their interquartile range.")
    with_fid = any(charts.evaluated(r.metrics()) for r in chosen)  # FID's own median too
    for c in [*picked, *(["fid"] if with_fid else [])]:
        bands = seed_groups.group_bands(groups, c)
        if bands:
            st.plotly_chart(band_figure(bands, "epoch", compare.label(c), height=300), key=f"cmp_band_{c}")

# ---- FID during training ----------------------------------------------------------------------
st.subheader("FID during training")
histories = {r.name: r.metrics() for r in chosen}
figs = charts.fid_compare_figures(histories, {r.name: run_untrained(r) for r in chosen})
missing = [name for name, rows in histories.items() if not charts.evaluated(rows)]
if len(figs) > 1:
    st.info("Not overlaid: these runs (or parts of them) were evaluated with different extractors or N "
            f"({'; '.join(charts.eval_tag(k) for k, _ in figs)}). FID is a distance in one feature space and "
            "is biased by N, so values from another extractor or N are another quantity: one chart each.",
            icon=":material/info:")
for i, (_key, fig) in enumerate(figs):
    st.plotly_chart(fig, key=f"fid_history_{i}")
if missing:
    st.caption(f"No live evaluation in {', '.join(missing)} (eval every = 0, or not reached yet): "
               "nothing to draw for them; **Evaluate** measures a checkpoint now.")

# ---- grids and clone -------------------------------------------------------------------------
st.subheader("Latest grids")
colors = run_colors(names)
per_row = min(PER_ROW, len(chosen))
scale = 2 if per_row <= 2 else 1  # 28 px digits stay sharp when the columns are wide enough
for start in range(0, len(chosen), per_row):
    cols = st.columns(per_row)
    for col, run in zip(cols, chosen[start:start + PER_ROW]):
        with col:
            st.markdown(f"<span style='color:{colors[run.name]}'>■</span> **{run.name}**", unsafe_allow_html=True)
            grid = compare.latest_grid(run)
            if grid:
                st.image(load_grid(grid[1], scale=scale), caption=f"epoch {grid[0]}", output_format="PNG")
            else:
                st.caption("No sample grid yet.")
            if st.button("Clone into Train", key=f"cmp_clone_{run.name}", icon=":material/content_copy:",
                         help="Open Train with this run's config filled in, to start a new run from it."):
                try:
                    cfg = compare.clone_config(run)
                except ConfigError as e:
                    st.error(f"Cannot clone: {e}", icon=":material/error:")
                else:
                    clone_to_train(cfg)

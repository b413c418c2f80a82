"""Sweeps: start a search over settings and seeds from the Train form's fields, watch its trials
live, and read the results: a table per trial and per setting (median and IQR over seeds), a
verdict per pair of settings, a parallel-coordinates plot, FID against wall time with the seed
spread as a band, and "Clone into Train" for the best setting.

A sweep runs in its own process (`python -m ganlib sweep`, on Ray Tune); this page only writes
its spec and reads its folder, so the dashboard needs no Ray cluster and survives a reload.
"""
import pandas as pd
import streamlit as st

from ganlib.core.errors import ConfigError
from ganlib.engine.sweep_launch import alive, launch
from ganlib.explore import run_comparison, sweep_report
from ganlib.store.sweep_folder import list_sweeps
from ganlib.store.sweep_spec import SweepSpec
from ganlib.ui import pickers, resources, signin
from ganlib.ui.compare_view import clone_to_train
from ganlib.ui.config_form import config_form
from ganlib.ui.sweep_view import band_figure, parallel_figure, vary_widgets

POLL_S = 2.0
LOG_LINES = 40  # the tail of sweep.log the page shows
PICKED = "sweeps_picked"  # the sweep to show, kept across reruns (no widget owns it)

st.title("Sweeps")
st.markdown("One run per setting is not evidence: GAN results move with the seed. A sweep trains every "
            "setting with several seeds, each trial for the same time budget, and says whether two settings "
            "differ beyond the spread of their seeds. Trials run on Ray Tune (a local Ray by default), each an "
            "ordinary run that every page can open.")

settings = resources.server_settings()
# A sweep is its own process on Ray, outside the job queue: on a shared server only a teacher starts one,
# on the Ray cluster the teacher set (server.toml's ray_address), never an address typed into a form.
may_start = not settings.shared or signin.actor().is_teacher
if not may_start:
    st.info("On this shared server sweeps are started by the teacher; you can read every sweep below.",
            icon=":material/lock:")
if may_start:
    with st.expander("Start a sweep", expanded=not list_sweeps(pickers.runs_root())):
        st.caption("The base config is the Train form's; pick the fields to vary below it.")
        base = config_form(prefix="swp")
        grid = vary_widgets(base, prefix="swp")
        c1, c2, c3, c4 = st.columns(4)
        n_seeds = c1.number_input("Seeds per setting", 1, 20, 3, key="swp_seeds")
        budget = c2.number_input("Time budget per trial (s)", 5, 24 * 3600, 60, key="swp_budget")
        quality = c3.number_input("Quality bar: FID at most", 0.1, 1000.0, 50.0, key="swp_quality",
                                  help="Time to quality: the first second of training at which a trial's FID "
                                       "reaches this.")
        asha = c4.checkbox("ASHA early stopping", key="swp_asha", help="Ray Tune stops the trials worst on FID early.")
        name = st.text_input("Name", value="sweep", key="swp_name")
        address = settings.ray_address if settings.shared else st.text_input("Ray cluster address (empty: a local Ray)",
                                                                             key="swp_address")
        if st.button("Start the sweep", type="primary", icon=":material/play_arrow:", key="swp_start"):
            try:
                spec = SweepSpec.from_dict({"name": name, "base": base, "grid": grid,
                                            "seeds": list(range(int(n_seeds))), "time_budget": float(budget),
                                            "quality_fid": float(quality), "asha": asha})
            except ConfigError as e:
                st.error(str(e), icon=":material/error:")
            else:
                sweep = launch(spec, pickers.runs_root(), address or None)
                st.session_state[PICKED] = sweep.name
                st.success(f"Started {sweep.name}: {len(spec.settings()) * len(spec.seeds)} trials.",
                           icon=":material/play_arrow:")

sweeps = list_sweeps(pickers.runs_root())
if not sweeps:
    st.info("No sweeps yet: start one above, or from the command line with "
            "`python -m ganlib sweep SPEC.yaml`.", icon=":material/info:")
    st.stop()
by_name = {s.name: s for s in sweeps}
if st.session_state.get(PICKED) not in by_name:
    st.session_state[PICKED] = sweeps[-1].name
picked = st.selectbox("Sweep", list(by_name), index=list(by_name).index(st.session_state[PICKED]), key="swp_pick")
st.session_state[PICKED] = picked
sweep = by_name[picked]
running = sweep.status().get("state") in ("starting", "running") and (alive(sweep) or
                                                                        sweep.status().get("state") == "starting")


def results() -> None:
    status = sweep.status()
    spec = sweep.spec()
    rows = sweep_report.trial_rows(sweep)
    n = len(spec.settings()) * len(spec.seeds)
    state = status.get("state", "?") if running or status.get("state") not in ("starting", "running") else "interrupted"
    st.markdown(f"**{sweep.name}**: {state}, {len(rows)} of {n} trials started, "
                f"{spec.time_budget:g} s each; varied: {', '.join(spec.varied) or 'nothing'}; seeds {spec.seeds}.")
    if status.get("error"):
        st.error(status["error"], icon=":material/error:")
    if sweep.log_file.is_file():
        with st.expander("Sweep log (Ray Tune's output)", expanded=state in ("failed", "interrupted") and not rows):
            st.code("\n".join(sweep.log_file.read_text(errors="replace").splitlines()[-LOG_LINES:]) or "(empty)")
    if not rows:
        st.caption("No trial has started yet (Ray takes a few seconds to start).")
        return
    table = sweep_report.summary(rows)
    st.subheader("Per setting (median and IQR over seeds)")
    st.dataframe(pd.DataFrame(table), hide_index=True, key="swp_summary")
    for v in sweep_report.verdicts(table):
        st.markdown(f"- {v['text']}")
    st.subheader("Trials")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="swp_trials")
    if len([r for r in rows if r["final_fid"] is not None]) >= 2 and spec.varied:
        st.subheader("Parallel coordinates")
        st.plotly_chart(parallel_figure(rows, spec.varied), key="swp_parcoords")
    bands = sweep_report.fid_vs_time(sweep)
    if bands:
        st.subheader("FID against wall time")
        st.plotly_chart(band_figure(bands, "seconds of training", "FID"), key="swp_band")
        st.caption("The line is the median over seeds, the band their interquartile range.")
    best = sweep_report.best_trial(sweep, table)
    if best is not None and st.button(f"Clone the best setting into Train ({table[0]['setting']})",
                                      icon=":material/content_copy:", key="swp_clone"):
        try:
            clone_to_train(run_comparison.clone_config(best))
        except ConfigError as e:
            st.error(f"{best.name}: {e}", icon=":material/error:")


st.fragment(results, run_every=POLL_S if running else None)()

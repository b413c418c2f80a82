"""Compare runs' **Families** view: a GAN, a VAE and a diffusion run (one or more seeds of each)
picked from the dashboard's runs, or a comparison folder written by `python -m ganlib families`,
side by side: the summary with each family's seed spread, FID / precision / recall / classes
covered against wall-clock time, milliseconds and network evaluations per image, diversity, the
same two seeds walked in each run, and the plain reading (`ganlib.explore.families.reading`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import streamlit as st

from ganlib.explore import families as fam
from ganlib.explore import sampling
from ganlib.explore.families_report import cost_figure, load_comparison, quality_figure, summary_rows
from ganlib.explore.run_comparison import run_config
from ganlib.store.run_folder import Run

RESULT = "_families_result"  # session key owned by no widget: the last measured comparison
SOURCES = {"runs": "Runs of this dashboard", "folder": "A folder written by `python -m ganlib families`"}


def family_runs(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """The runs of each family, newest last (image-to-image runs belong to none)."""
    out: dict[str, list[Run]] = {f: [] for f in fam.FAMILIES}
    for r in runs:
        f = fam.family_of(run_config(r))
        if f is not None:
            out[f].append(r)
    return out


def pick_runs(runs: Sequence[Run]) -> tuple[list[Run], int]:
    by_family = family_runs(runs)
    cols = st.columns(3)
    chosen: list[Run] = []
    for col, f in zip(cols, fam.FAMILIES):
        names = [r.name for r in by_family[f]]
        if not names:
            col.caption(f"No {fam.LABELS[f]} run yet: train one on **Train**"
                        + (" (the `diffusion` preset)." if f == "diffusion" else "."))
            continue
        picked = col.multiselect(fam.LABELS[f], names, default=names[-1:], key=f"fam_pick_{f}",
                                 help="One run per seed; pick several seeds to see their spread.")
        chosen += [r for r in by_family[f] if r.name in picked]
    n = int(st.number_input("Samples per evaluation (N)", 100, 10_000, 1_000, 100, key="fam_eval_n",
                            help="Each run's latest checkpoint is evaluated now at this N: the same N for every "
                                 "run, so their FIDs compare."))
    return chosen, n


def show(result: dict[str, Any], runs_by_name: dict[str, Run]) -> None:
    st.subheader("What the measurements show")
    for line in fam.reading(result):
        st.markdown(f"- {line}")
    st.subheader("Summary (median, and the range over seeds)")
    st.dataframe(pd.DataFrame(summary_rows(result)).astype(str), hide_index=True, key="fam_summary")
    st.plotly_chart(quality_figure(result), key="fam_quality")
    st.plotly_chart(cost_figure(result), key="fam_cost")
    st.caption("Diversity: the mean pixel distance between 200 samples of fixed seeds (0 when all are the same "
               "image); recall is the diversity the real data's features see. Milliseconds depend on the machine "
               "and its load, the network evaluations (NFE) do not.")
    walks([runs_by_name[r["run"]] for r in result["runs"] if r["run"] in runs_by_name])


def walks(runs: Sequence[Run]) -> None:
    """The same two seeds walked in one run of each family (each family's own latent shape: a GAN's
    and a VAE's vector, a diffusion run's image-sized initial noise)."""
    firsts = {}
    for r in runs:
        firsts.setdefault(fam.family_of(run_config(r)), r)
    if not firsts:
        return
    st.subheader("The same seeds walked in each")
    a, b, c = st.columns(3)
    seed_a = int(a.number_input("Start seed", 0, 2**31 - 1, 0, 1, key="fam_walk_a"))
    seed_b = int(b.number_input("End seed", 0, 2**31 - 1, 1, 1, key="fam_walk_b"))
    label = int(c.number_input("Label (conditional runs)", 0, 9, 3, 1, key="fam_walk_label"))
    for f, run in firsts.items():
        try:
            h = sampling.get_generator(run)
            conditional = h.conditional
            y = min(label, h.num_classes - 1) if conditional else None
            walk = sampling.latent_walk(run, seed_a, seed_b, 8, label_a=y, label_b=y, scale=2)
        except (FileNotFoundError, ValueError) as e:
            st.caption(f"{fam.LABELS[f]} ({run.name}): {e}")
            continue
        st.image(walk.strip, caption=f"{fam.LABELS[f]}: {run.name}, seed {seed_a} → {seed_b}"
                 + (f", label {y}" if conditional else " (unconditional)"), output_format="PNG")


def families_view(runs: Sequence[Run]) -> None:
    st.caption("GAN, VAE and diffusion on the same data and clock. Train them on **Train** (the default recipe, "
               "model `vae`, the `diffusion` preset) with the same time budget and seeds, or run "
               "`python -m ganlib families --budget 60 --seeds 0,1,2 --out DIR`, which does it for you.")
    source = st.radio("Compare", list(SOURCES), format_func=SOURCES.get, key="fam_source", horizontal=True)
    runs_by_name = {r.name: r for r in runs}
    if source == "folder":
        folder = st.text_input("Folder (or its comparison.json)", key="fam_folder")
        if not folder:
            st.stop()
        try:
            show(load_comparison(Path(folder).expanduser()), runs_by_name)
        except (OSError, ValueError, KeyError) as e:
            st.error(f"Cannot read a comparison from {folder}: {e}", icon=":material/error:")
        return
    chosen, n = pick_runs(runs)
    if len({fam.family_of(run_config(r)) for r in chosen}) < 2:
        st.info("Pick runs of at least two families.", icon=":material/info:")
        return
    key = (tuple(r.name for r in chosen), n)
    if st.button("Measure", key="fam_measure", icon=":material/speed:",
                 help="Evaluate each run's latest checkpoint at N, time its sampler and measure its diversity."):
        with st.spinner("Measuring the runs"):
            try:
                st.session_state[RESULT] = (key, fam.compare_runs(chosen, n_eval=n))
            except (FileNotFoundError, ValueError) as e:
                st.error(str(e), icon=":material/error:")
                return
    held = st.session_state.get(RESULT)
    if held is None or held[0] != key:
        st.caption("Press **Measure**: it evaluates each picked run now (a few seconds per run, more for "
                   "diffusion, which draws each image in several network evaluations).")
        return
    show(held[1], runs_by_name)

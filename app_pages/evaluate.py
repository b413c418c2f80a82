"""Evaluate: the full metric table of a checkpoint (best.pt or any epoch), optionally beside
other runs' best checkpoints at the same extractor and N; real against generated classes; and
each generated sample's nearest training image. The runs' FID during training is on Compare
runs, with their other curves.

The computation (`ganlib.explore.checkpoint_evaluation`) runs in the page thread with a progress bar: it is
seconds for N of a few thousand with the digit extractor on a CPU.
"""
import pandas as pd
import streamlit as st

from ganlib.core.errors import ConfigError
from ganlib.explore import checkpoint_evaluation as ej
from ganlib.store.config_rules import CHOICE_REGISTRIES
from ganlib.store.run_folder import Run
from ganlib.ui import charts, evaluate_view, pickers

RESULTS = "_evaluate_results"  # session key owned by no widget: the last computed table
PAIRS = 8  # nearest-neighbour pairs shown
PAIRS_PER_ROW = 4
NN_SAMPLES = 500  # generated samples searched for their nearest training image

st.title("Evaluate")
runs = pickers.runs_or_stop("Evaluate", Run.has_checkpoint,
                            "No run has a checkpoint yet: a run writes one every `checkpoint every` epochs and at its "
                            "end. Open **Train** to start or finish one.")

# ---- what to evaluate -----------------------------------------------------------------------
c_run, c_ck = st.columns([2, 1])
with c_run:
    run = pickers.pick_run(runs, key="eval_run")
ckpt = pickers.pick_checkpoint(run, "eval", c_ck, default_best=True,
                            help="best.pt is the lowest-FID state kept by live evaluation during training.")
others = st.multiselect("Compare with other runs", [r.name for r in runs if r.name != run.name], key="eval_compare",
                        help="Each is evaluated at its best.pt (else its latest checkpoint) with the same "
                             "extractor and N, so the numbers are comparable (their FID during training is on "
                             "**Compare runs**).")
try:
    cfg = run.config()
except (ConfigError, OSError, ValueError) as e:
    st.error(f"Cannot read {run.name}/config.json: {e}", icon=":material/error:")
    st.stop()
try:
    size = evaluate_view.data_size(cfg.to_json())
except Exception as e:  # noqa: BLE001 - a missing folder, an offline torchvision set: say so, do not crash
    st.error(f"Cannot load {run.name}'s data ({cfg.dataset}): {e}", icon=":material/error:")
    st.stop()

c_ext, c_n = st.columns(2)
names = CHOICE_REGISTRIES["extractors"].names()
extractor = c_ext.selectbox("Extractor", names, index=names.index(cfg.extractor) if cfg.extractor in names else 0,
                            key=f"eval_extractor_{run.name}",
                            help="auto: the extractor made for the data (digits, emoji), else the FID Inception, "
                                 "else none. Values are comparable only at equal extractor and N.")
choice = evaluate_view.chosen_extractor(extractor, cfg.to_json())
used = choice.name or "no extractor"
with c_n:
    n = evaluate_view.n_slider(size, key=f"eval_n_{size}")
evaluate_view.extractor_line(choice)
c_ext.caption(f"Uses **{used}** · {cfg.dataset}: {size:,} images")

settings = {"run": run.name, "checkpoint": ckpt, "others": list(others), "extractor": extractor, "n": n}
if st.button("Compute metrics", type="primary", key="eval_compute", icon=":material/calculate:"):
    targets = [(run, ckpt)] + [(r, None) for r in runs if r.name in others]
    steps = len(targets) + 1  # + the nearest-neighbour search
    results, errors, mem = [], [], None
    with st.status(f"Computing metrics: {used}, N={n:,}", expanded=True) as status:
        bar = st.progress(0.0, text="Starting")
        for i, (r, ck) in enumerate(targets):
            def step(f: float, text: str, i=i, r=r) -> None:
                bar.progress(min(1.0, (i + f) / steps), text=f"{r.name}: {text}")

            try:
                res = ej.evaluate_checkpoint(r, ck, extractor=extractor, n=n, progress=step)
                results.append({"row": res.row, "details": res.details, "warnings": res.warnings})
            except Exception as e:  # noqa: BLE001 - one run failing leaves the others' numbers
                errors.append(f"{r.name}: {type(e).__name__}: {e}")
        def nn_step(f: float, text: str) -> None:
            bar.progress(min(1.0, (steps - 1 + f) / steps), text=f"{run.name}: {text}")

        try:
            mem = ej.memorisation_pairs(run, ckpt, n_gen=min(NN_SAMPLES, n), k=PAIRS, scale=5, progress=nn_step)
        except Exception as e:  # noqa: BLE001
            errors.append(f"nearest training images of {run.name}: {type(e).__name__}: {e}")
        status.update(label=f"Metrics computed: {used}, N={n:,}", state="error" if errors else "complete",
                      expanded=False)
    st.session_state[RESULTS] = {"settings": settings, "results": results, "errors": errors, "mem": mem}

# ---- the table ------------------------------------------------------------------------------
stored = st.session_state.get(RESULTS)
if stored is None:
    st.caption("Press **Compute metrics** for FID, KID, IS, precision/recall and the class metrics of the "
               "chosen checkpoint, and its nearest training images.")
else:
    st.subheader("Metrics")
    for err in stored["errors"]:
        st.error(err, icon=":material/error:")
    results = stored["results"]
    if stored["settings"] != settings:
        s = stored["settings"]
        st.caption(f"Computed for {s['run']} / {s['checkpoint']}"
                   + (f" and {', '.join(s['others'])}" if s["others"] else "")
                   + f" with {s['extractor']}, N={s['n']:,}; the choices above have changed since: press "
                     "**Compute metrics** again to update.")
    if results:
        table = pd.DataFrame(evaluate_view.metric_table(results))
        if len(results) == 1:
            d = results[0]["details"]
            st.markdown(f"**{d['run']}**, `{d['checkpoint']}` (epoch {d['epoch']})")
            table = table.drop(columns=["run", "checkpoint"])
        st.dataframe(table, hide_index=True, height="content", column_config={  # every row, no scroll box
            "value": st.column_config.NumberColumn(format="%.5g"),
            "± std": st.column_config.TextColumn(help="FID: bootstrap std over generated samples; KID: std over "
                                                 "subsets; IS: std over splits; empty where a metric has none"),
            "N": st.column_config.NumberColumn(format="%d", help="generated samples (and real reference images)"),
        })
        for res in results:
            if res["details"].get("extractor_note"):
                st.info(res["details"]["extractor_note"], icon=":material/cloud_off:")
            for w in res["warnings"]:
                st.warning(f"{res['details']['run']}: {w}", icon=":material/warning:")

        # ---- classes ---------------------------------------------------------------------
        with_hist = [r for r in results if r["details"].get("gen_hist") and r["details"].get("real_hist")]
        if with_hist:
            d0 = with_hist[0]["details"]
            fig = charts.class_hist_figure(
                d0["real_hist"], {f"{r['details']['run']} ({r['details']['checkpoint']})": r["details"]["gen_hist"]
                                  for r in with_hist if len(r["details"]["real_hist"]) == len(d0["real_hist"])},
                d0.get("class_names"), title=f"Real against generated classes ({charts.eval_tag(with_hist[0]['row'])})")
            st.plotly_chart(fig, key="class_hist_chart")
        else:
            st.caption("No class histogram: the extractor is not a classifier of this dataset's classes.")
        for i, res in enumerate(results):
            rec = {**res["details"], **res["row"], "epoch": res["details"].get("epoch")}
            evaluate_view.per_class(rec, key=f"per_class_{i}", class_names=res["details"].get("class_names"))

    # ---- nearest training images ----------------------------------------------------------
    mem = stored["mem"]
    if mem is not None:
        st.subheader("Nearest training images")
        st.caption(f"{mem.n_gen} samples of {mem.details['run']} ({mem.details['checkpoint']}) against all "
                   f"{mem.n_train:,} training images, L2 in pixel space (images in [-1, 1]). Each pair: generated "
                   "(left), its nearest training image (right); closest first.")
        for start in range(0, len(mem.pairs), PAIRS_PER_ROW):
            cols = st.columns(PAIRS_PER_ROW)
            for col, p in zip(cols, mem.pairs[start:start + PAIRS_PER_ROW]):
                col.image(p.png, caption=f"d = {p.distance:.2f} (generated #{p.gen_index}, train #{p.train_index})",
                          output_format="PNG")
        m1, m2, m3 = st.columns(3)
        m1.metric("Median distance, generated → training", f"{mem.gen_median:.2f}")
        m2.metric("Median distance, real → other training", f"{mem.real_median:.2f}",
                  help=f"Leave-one-out nearest distance of {mem.n_real} real training images: the yardstick.")
        m3.metric("Generated closer than 95 % of real", f"{mem.share_close:.1%}",
                  help=f"Share of generated samples nearer a training image than {mem.real_q05:.2f}, the 5th "
                       "percentile of the real-to-real distances. About 5 % for samples that behave like new "
                       "real images; far more points to copies of training images.")
        if mem.share_close > 0.25:
            st.warning(f"{mem.share_close:.0%} of the generated samples lie closer to a training image than 95 % of "
                       "real images lie to theirs: the generator may be memorising its training set "
                       "(look at the pairs above).", icon=":material/content_copy:")

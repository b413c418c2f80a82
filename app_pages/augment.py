"""Augment: does the run's generator help a classifier? Seed 003 lists data augmentation as a
use of GANs, with pros and cons; this page measures both on a run.

The experiment (`ganlib.explore.augmentation.augment_run`) runs as a task of the process's one
task runner (through `AugmentRunner`; a training job and an experiment do not run at once); a
fragment polls its snapshot every second while it runs, so the rest of the page (and every
other page) stays usable. Results are read back from the run folder
(augment.json), so they survive a reload and show for whoever opens the run.
"""
import streamlit as st

from ganlib.core.errors import ConfigError, NotAllowed
from ganlib.engine.tasks import TaskBusy
from ganlib.explore.augment_report import reading, summary_table
from ganlib.explore.augmentation import AugmentSettings, heldout_dataset
from ganlib.store.access import may_manage
from ganlib.store.run_folder import Run
from ganlib.ui import augment_view, pickers, resources, signin

POLL_S = 1.0
SIZE_OPTIONS = [5, 10, 20, 50, 100, 200, 400]
D0 = AugmentSettings()

st.title("Augment")
st.markdown("Does adding GAN-made images to a small labelled set help a classifier? A small CNN is trained on "
            "**real** images only, on the same **real + generated** images, and on **generated** images only "
            "(the *Classification Accuracy Score*, Ravuri & Vinyals 2019), over several seeds, and each is tested "
            "on real images **the generator never saw**. *GAN-test* (Shmelkov et al. 2018) runs the other way: "
            "classifiers trained on real images, tested on generated ones.")

runs = pickers.runs_or_stop("Augment", Run.has_checkpoint,
                            "No run has a checkpoint yet. The experiment needs a conditional run trained on a split "
                            "that keeps real images back: on **Train**, pick the dataset `mnist5k_train` (the default "
                            "model is conditional), train a minute or two, and come back.")

runner = resources.augment_runner()
me = signin.actor()  # it writes into the run: a shared server's users run it on their own runs
c_run, c_ck = st.columns([2, 1])
with c_run:
    run = pickers.pick_run(runs, key="aug_run")
ckpt = pickers.pick_checkpoint(run, "aug", c_ck, default_best=True)
refusal = None
try:
    heldout = heldout_dataset(run.config())
except (ConfigError, OSError, ValueError) as e:
    refusal = str(e)
if refusal:
    st.error(f"{run.name} cannot be tested fairly: {refusal}", icon=":material/block:")
else:
    st.caption(f"Tested on `{heldout}`: real images that {run.name} never trained on.")

c1, c2, c3 = st.columns([2, 1, 1])
sizes = c1.multiselect("Real images per class", SIZE_OPTIONS, default=list(D0.real_per_class), key="aug_sizes",
                       help="One point of the curves per size; each seed draws its own real images.")
k = c2.number_input("Generated images per class", 10, 5000, D0.generated_per_class, 50, key="aug_k")
seeds = c3.slider("Seeds", 1, 5, D0.seeds, key="aug_seeds", help="The spread over seeds is drawn around each point.")
with st.expander("Classifier"):
    steps = st.number_input("Training steps per classifier (batch 64)", 20, 3000, D0.steps, 20, key="aug_steps",
                            help="Every classifier trains this many steps, whatever its set's size.")
settings = AugmentSettings(real_per_class=tuple(sorted(sizes)), generated_per_class=int(k), seeds=int(seeds),
                           steps=int(steps))
snap = runner.snapshot()
busy = snap["state"] == "running"
waiting = None if busy else runner.tasks.refusal("augmentation")  # a training job holds the slot
if waiting:
    st.info(f"{waiting}.", icon=":material/hourglass_top:")
if st.button("Run the experiment", type="primary", key="aug_start", icon=":material/science:",
             disabled=bool(refusal) or not sizes or busy or bool(waiting)):
    try:
        runner.start(run, settings, checkpoint=ckpt, actor=me)
    except (TaskBusy, NotAllowed) as e:
        st.error(str(e), icon=":material/error:")
    st.rerun()


def progress_view() -> None:
    s = runner.snapshot()
    if s["state"] == "running":
        st.progress(min(1.0, s["fraction"]), text=f"{s['run']}: {s['text']}")
        if st.button("Stop", key="aug_stop", icon=":material/stop:", disabled=not may_manage(me, s.get("owner"))):
            runner.stop(me)
    elif s["state"] == "failed":
        st.error(f"The experiment on {s['run']} failed: {s['error']}", icon=":material/error:")
    elif s["state"] == "stopped":
        st.info(f"The experiment on {s['run']} was stopped; nothing was written.", icon=":material/info:")
    if busy and s["state"] != "running":
        st.rerun()  # finished: redraw the whole page with the results


st.fragment(progress_view, run_every=POLL_S if busy else None)()

# ---- the results ------------------------------------------------------------------------------
result = run.augment()
if result is None:
    st.caption(f"No experiment on {run.name} yet: press **Run the experiment**.")
    st.stop()
table = summary_table(result["records"])
kk = result["settings"]["generated_per_class"]
st.subheader("What it says")
st.markdown("\n".join(f"- {line}" for line in reading(result)))
left, right = st.columns(2)
left.plotly_chart(augment_view.accuracy_figure(table, kk), key="aug_accuracy")
right.plotly_chart(augment_view.gan_test_figure(table), key="aug_gan_test")
st.dataframe(augment_view.table_frame(table), hide_index=True, column_config={
    c: st.column_config.NumberColumn(format="%.1f %%") for c in ("accuracy", "± std", "min", "max")})
st.caption(f"{result['checkpoint']} (epoch {result['epoch']}), generator trained on "
           f"{result['generator_trained_on']:,} images of {result['dataset']}; tested on {result['heldout_images']:,} "
           f"images of {result['heldout']}; {result['settings']['seeds']} seeds, {result['settings']['steps']} "
           f"steps per classifier; {result['seconds']:.0f} s on {result['device']}. Saved in "
           f"{run.name}/augment.json and augment.csv.")

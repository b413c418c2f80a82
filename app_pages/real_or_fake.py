"""Real or fake?: judge real and generated images one at a time; your error rate (HYPE-infinity)
with its 95% interval, per checkpoint, kept in the run folder across sessions."""
from pathlib import Path

import streamlit as st

from ganlib.data import DatasetUnavailable
from ganlib.explore import human_eval as he
from ganlib.explore import sampling
from ganlib.store.run_folder import Run
from ganlib.ui import pickers
from ganlib.ui.sampler_view import sampler_controls

ROUND = "_rof_round"  # session key owned by no widget: {"run", "batch", "sampler", "pos", "answers"}

st.title("Real or fake")
st.caption("A human evaluation in the spirit of HYPE: real images from the run's own data and generated ones "
           "come in random order. Your error rate is HYPE∞: 50% means the generator fools you as often as a "
           "coin flip, 0% means you spot every fake. Keys: ← Real, → Fake.")
runs = pickers.runs_or_stop("Real or fake", lambda r: bool(r.checkpoints()),
                            "No run has a checkpoint yet: train until the first checkpoint is written, then judge "
                            "it here.")

c_run, c_ck, c_n = st.columns([2, 1, 1])
with c_run:
    run = pickers.pick_run(runs, key="rof_run")
ckpt = pickers.pick_checkpoint(run, "rof", c_ck)
n = int(c_n.number_input("Images per round", 10, 200, 50, 10, key="rof_n",
                         help="Half real, half generated. 50 answers take about two minutes."))

try:  # a diffusion run's sampler: the steps and guidance its fakes are drawn with
    steps, guidance = sampler_controls(sampling.get_generator(run, ckpt), "rof", st.container(horizontal=True))
except (FileNotFoundError, ValueError, KeyError):
    steps = guidance = None  # Start says what is wrong with the checkpoint

rnd = st.session_state.get(ROUND)
if rnd and (rnd["run"] != str(run.path) or rnd["batch"].checkpoint != ckpt or rnd["sampler"] != (steps, guidance)):
    rnd = None  # the round belongs to another run, checkpoint or sampler setting

controls = st.container(horizontal=True, vertical_alignment="center")
start_label = "Start a round" if rnd is None else "Start a new round"
if controls.button(start_label, key="rof_start", type="primary" if rnd is None else "secondary",
                  icon=":material/play_arrow:"):
    try:
        with st.spinner(f"Preparing {n} images..."):
            batch = he.make_batch(run, ckpt, n, steps=steps, guidance=guidance)
    except (ValueError, FileNotFoundError, DatasetUnavailable) as e:
        st.error(f"Cannot start a round: {e}", icon=":material/error:")
        st.stop()
    rnd = st.session_state[ROUND] = {"run": str(run.path), "batch": batch, "sampler": (steps, guidance), "pos": 0,
                                     "answers": []}
feedback = controls.toggle("Tell me after each answer", key="rof_feedback",
                             help="HYPE measures without feedback; switch on to practise.")


def answer(choice: str) -> None:
    r = st.session_state[ROUND]
    if r["pos"] < len(r["batch"]):
        r["answers"].append(he.record_answer(Run(Path(r["run"])), r["batch"], r["pos"], choice))
        r["pos"] += 1


@st.fragment
def judge(feedback: bool) -> None:
    """The image and the two buttons: an answer reruns only this, not the run pickers and the
    history (which took 1.5-2.5 s a click); the last answer reruns the page for the history."""
    rnd = st.session_state[ROUND]
    batch, pos = rnd["batch"], rnd["pos"]
    if pos >= len(batch):
        st.rerun()  # the round ended in this fragment: the whole page shows the result and history
    st.progress(pos / len(batch), text=f"Image {pos + 1} of {len(batch)}")
    left, right = st.columns([2, 3])
    left.image(batch.items[pos].png, output_format="PNG")
    with right:
        st.markdown("**Is this image real or generated?**")
        a, b = st.columns(2)
        a.button("Real", key="rof_real", on_click=answer, args=("real",), shortcut="Left",
                 icon=":material/photo_camera:", width="stretch")
        b.button("Fake", key="rof_fake", on_click=answer, args=("fake",), shortcut="Right",
                 icon=":material/smart_toy:", width="stretch")
        if feedback and rnd["answers"]:
            last = rnd["answers"][-1]
            (st.success if last["correct"] else st.warning)(
                f"Last image was {last['kind']}: you said {last['answer']}.")
        if rnd["answers"]:  # the running error rate would give each answer away: only with feedback
            st.caption(f"So far this round: {he.error_rate(rnd['answers'])}" if feedback
                       else f"{len(rnd['answers'])} answered; the result comes at the end of the round.")


if rnd is not None:
    if rnd["pos"] < len(rnd["batch"]):
        judge(feedback)
    else:
        er = he.error_rate(rnd["answers"])
        st.success(f"Round done: your error rate is {er}.", icon=":material/task_alt:")
        row = he.summary_rows(rnd["answers"])[0]
        m1, m2, m3 = st.columns(3)
        m1.metric("Error rate (HYPE∞)", f"{er.rate:.1%}", help="95% Wilson interval "
                  f"{er.interval[0]:.1%}–{er.interval[1]:.1%}")
        fr, rf = row["fakes_judged_real"], row["reals_judged_fake"]
        m2.metric("Fakes taken for real", "–" if fr is None else f"{fr:.0%}")
        m3.metric("Reals taken for fake", "–" if rf is None else f"{rf:.0%}")
else:
    st.info(f"Press **{start_label}**: {n} images are prepared at once, so every answer is instant.",
            icon=":material/info:")

in_round = rnd is not None and rnd["pos"] < len(rnd["batch"])
answers = he.load_answers(run)
st.subheader("History")
if in_round and not feedback:
    st.caption("Hidden until the round ends, so that it does not give answers away.")
elif not answers:
    st.caption(f"No answers saved for {run.name} yet; they go to `{run.human_eval_file.name}` in the run folder.")
else:
    total = he.error_rate(answers)
    st.markdown(f"**{run.name}**: {total} over every session.")

    def pct(label: str, help: str | None = None):
        return st.column_config.NumberColumn(label, format="percent", help=help)

    cols = {"started": "Started", "epoch": "Epoch", "answers": "Answers", "checkpoint": "Checkpoint",
            "error_rate": pct("Error rate", "HYPE∞: wrong answers over all answers"),
            "ci_low": pct("95% CI low", "Wilson score interval"),
            "ci_high": pct("95% CI high", "Wilson score interval"),
            "fakes_judged_real": pct("Fakes taken for real"), "reals_judged_fake": pct("Reals taken for fake")}
    t1, t2 = st.tabs(["By checkpoint", "By session"])
    with t1:
        st.dataframe(he.summary_rows(answers, by="checkpoint"), hide_index=True,
                     column_config={**cols, "group": "Checkpoint", "checkpoint": None})
    with t2:
        st.dataframe(he.summary_rows(answers, by="session"), hide_index=True,
                     column_config={**cols, "group": "Session"})

"""Home: what GAN Workbench is, its pages (generated from the navigation's one list), the
device, what runs in the background now, and every run with its state and health."""
import pandas as pd
import streamlit as st

from ganlib.interchange.importing import IMPORTED_STATE
from ganlib.ui import navigation, pickers, resources

st.title(navigation.APP_TITLE)
st.markdown(
    "Train small generative adversarial networks on image datasets, watch them learn, and "
    "sample from them, all in the browser. Every run gets its own folder with its config, "
    "a per-epoch metrics log, the fixed-noise sample grid of each epoch and checkpoints, so "
    "a run can be inspected, resumed or sampled later (the `python -m ganlib` CLI reads "
    "the same folders)."
)
dev = resources.device_info()
with st.container(border=True):
    st.markdown(f"**Device in use:** `{dev['device']}`, {dev['name']}"
                + (f", {dev['memory_gb']} GiB" if dev.get("memory_gb") else "")
                + f" · torch {dev['torch']} · runs folder `{pickers.runs_root()}`")
    if not dev["cuda"]:
        st.caption("No GPU is visible, so `device=auto` trains on the CPU: keep runs small "
                   "(e.g. max images 5000, batch 128).")

jm = resources.get_job_manager()
cur = jm.current()
if cur and cur["active"]:
    st.info(f"Training now: job {cur['id']} ({cur['model']} on {cur['dataset']}), "
            f"epoch {cur['epoch']}/{cur['epochs']}, {cur['state']}. Watch it on **Train**.")
for task in resources.task_runner().active():
    if task["kind"] != "training":
        st.info(f"Running now: {task['label']}.", icon=":material/hourglass_top:")

st.subheader("Runs")
runs = pickers.list_runs()
if not runs:
    st.info("No runs yet. Open **Train** in the sidebar to start the first one.",
            icon=":material/info:")
else:
    df = pd.DataFrame(pickers.runs_table(runs))
    df["status"] = df["status"].replace({IMPORTED_STATE: "imported"})  # whole in a narrow column; the help says more
    cols = ["run", "status", "health", "model", "dataset", "loss", "epoch", "epochs", "d_loss", "g_loss", "checkpoints"]
    if df["error"].astype(bool).any():
        cols.append("error")
    st.dataframe(df[[c for c in cols if c in df.columns]], hide_index=True, width="stretch", column_config={
        "run": st.column_config.TextColumn("run", width="medium"),
        "error": st.column_config.TextColumn("error", width="large"),
        "checkpoints": st.column_config.NumberColumn("ckpts", width=55),
        "status": st.column_config.TextColumn("status", width=90, help="queued, running, paused, completed, stopped, "
                                              "failed, diverged, interrupted (its process died: resume it), or "
                                              "imported (from a file: it samples, it cannot resume)"),
        "health": st.column_config.TextColumn("health", help="The run's verdict from its metrics: learning, "
                                              "collapse k/N (classes covered), D winning, stalled, diverged, "
                                              "failed, too early; ? when its files cannot be read. The Train "
                                              "page explains it and says what to change."),
        "epoch": st.column_config.NumberColumn("done", width=55, help="epochs done"),
        "epochs": st.column_config.NumberColumn("planned", width=70, help="epochs planned"),
        "d_loss": st.column_config.NumberColumn("D loss", format="%.3f", width=70, help="last epoch's D loss"),
        "g_loss": st.column_config.NumberColumn("G loss", format="%.3f", width=70, help="last epoch's G loss"),
    })
    st.caption(f"{len(runs)} run(s) in `{pickers.runs_root()}`.")

st.subheader("Pages")
for section in dict.fromkeys(spec.section for spec in navigation.PAGES[1:]):
    st.markdown(f"**{section}**")
    for spec in navigation.PAGES[1:]:
        if spec.section == section:
            c_link, c_text = st.columns([1, 4], vertical_alignment="center")
            with c_link:
                navigation.link(spec.title)
            c_text.markdown(spec.summary[:1].upper() + spec.summary[1:])

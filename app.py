"""GAN Workbench dashboard, Home page: `streamlit run app.py`.

Streamlit's `pages/` folder convention adds Train, Samples, Generate and Latent walk to the
sidebar. Home says what the tool is, lists the runs and shows the device. No page imports
torch; runs live in $GANLIB_RUNS_DIR (default: checkpoints/).
"""
import pandas as pd
import streamlit as st

from ganlib.ui import core

core.page_setup("Home")
st.title("GAN Workbench")
st.markdown(
    "Train small generative adversarial networks on image datasets, watch them learn, and "
    "sample from them, all in the browser. Every run gets its own folder with its config, "
    "a per-epoch metrics log, the fixed-noise sample grid of each epoch and checkpoints, so "
    "a run can be inspected, resumed or sampled later (the `python -m ganlib` CLI reads "
    "the same folders)."
)
st.markdown(
    "- **Train**: set every option of a run (dataset, model, loss, learning rates, ...), "
    "start it or resume an earlier one, then pause, resume or stop it while the loss "
    "curves, D(x) / D(G(z)) and the latest sample grid update live.\n"
    "- **Samples**: step or play through the sample grids a run wrote after each epoch, "
    "and download any of them.\n"
    "- **Generate**: draw new images from a checkpoint with a chosen seed; for conditional "
    "models pick one label for all images or one label per row. Download PNG or NPZ.\n"
    "- **Latent walk**: interpolate between two seeds (and two labels), linearly or along "
    "the sphere, and download the animated GIF."
)

dev = core.device_info()
with st.container(border=True):
    st.markdown(f"**Device in use:** `{dev['device']}`, {dev['name']}"
                + (f", {dev['memory_gb']} GiB" if dev.get("memory_gb") else "")
                + f" · torch {dev['torch']} · runs folder `{core.runs_root()}`")
    if not dev["cuda"]:
        st.caption("No GPU is visible, so `device=auto` trains on the CPU: keep runs small "
                   "(e.g. max images 5000, batch 128).")

jm = core.get_job_manager()
cur = jm.current()
if cur and cur["active"]:
    st.info(f"Training now: job {cur['id']} ({cur['model']} on {cur['dataset']}), "
            f"epoch {cur['epoch']}/{cur['epochs']}, {cur['state']}. Watch it on **Train**.")

st.subheader("Runs")
runs = core.list_runs()
if not runs:
    st.info("No runs yet. Open **Train** in the sidebar to start the first one.",
            icon=":material/info:")
    st.stop()
df = pd.DataFrame(core.runs_table(runs))
cols = ["run", "status", "health", "model", "dataset", "loss", "epoch", "epochs", "d_loss", "g_loss", "checkpoints"]
if df["error"].astype(bool).any():
    cols.append("error")
st.dataframe(df[[c for c in cols if c in df.columns]], hide_index=True, column_config={
    "health": st.column_config.TextColumn("health", help="The run's verdict from its metrics: learning, "
                                          "collapse k/N (classes covered), D winning, stalled, diverged, "
                                          "failed, too early; ? when its files cannot be read. The Train "
                                          "page explains it and says what to change."),
    "epoch": st.column_config.NumberColumn("epochs done"),
    "epochs": st.column_config.NumberColumn("epochs planned"),
    "d_loss": st.column_config.NumberColumn("last D loss", format="%.3f"),
    "g_loss": st.column_config.NumberColumn("last G loss", format="%.3f"),
})
st.caption(f"{len(runs)} run(s) in `{core.runs_root()}`.")

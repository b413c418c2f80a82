"""GAN Workbench dashboard, Home page: `streamlit run app.py`.

Streamlit's `pages/` folder convention adds the pages to the sidebar; Home says what
each does, lists the runs and shows the device. No page imports
torch; runs live in $GANLIB_RUNS_DIR (default: checkpoints/).
"""
import pandas as pd
import streamlit as st

from ganlib.ui import core

# What each page of the sidebar does, in its order (a test checks that every page is here).
PAGES = """
- **Train**: set every option of a run (or start from a preset), start, resume or fork one, then pause, \
resume, stop or edit it live while the loss curves, D(x) / D(G(z)), the health verdict and the sample grid update.
- **Samples**: step or play through the sample grids a run wrote after each epoch, and download them.
- **Generate**: draw new images from any checkpoint with a chosen or random seed; for conditional models \
one label for all images or one per row. Download PNG or NPZ.
- **Latent walk**: interpolate between two seeds (and two labels), linearly or along the sphere; animated GIF.
- **Evaluate**: the full metric table of a checkpoint (FID, KID, IS, precision/recall, per class), beside \
other runs, the FID history, and each sample's nearest training image.
- **Playground**: a tiny GAN learning a 2-D point cloud live, to see the game and its failure modes.
- **Latent explorer**: edit one latent along principal directions, truncation with its measured quality, \
grids, class morphs, latent arithmetic and pinned favourites.
- **Real or fake**: judge real and generated images one at a time; your error rate (HYPE) per checkpoint.
- **Compare runs**: the config fields that differ, the curves overlaid and the latest grids side by side; \
clone a run into Train.
- **Timelapse**: a run's grids across epochs as one GIF or MP4.
- **Export import**: a run as a zip, its config as JSON or YAML, its metrics as TensorBoard logs; \
a zip or a weights file back in as a new run.
- **Translate**: an image-to-image run (pix2pix, CycleGAN) on held-out or uploaded images: input, output, \
target and, for CycleGAN, the way back.
- **Augment**: does the run's generator help a classifier? Accuracy on held-out real digits with real, \
real + generated and generated-only training data (CAS), over several seeds.
- **Style explorer**: what StyleGAN's parts do on a stylegan run: style mixing at coarse, middle or fine \
layers, noise at chosen layers with its std map, walks in Z and in W, truncation in W, path length.
- **Sweeps**: train every setting of a few fields with several seeds on Ray Tune; per setting the median \
and spread over seeds, whether two settings really differ, FID against time, and the best one into Train.
"""

core.page_setup("Home")
st.title("GAN Workbench")
st.markdown(
    "Train small generative adversarial networks on image datasets, watch them learn, and "
    "sample from them, all in the browser. Every run gets its own folder with its config, "
    "a per-epoch metrics log, the fixed-noise sample grid of each epoch and checkpoints, so "
    "a run can be inspected, resumed or sampled later (the `python -m ganlib` CLI reads "
    "the same folders)."
)
st.markdown(PAGES)
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
st.dataframe(df[[c for c in cols if c in df.columns]], hide_index=True, width="stretch", column_config={
    "run": st.column_config.TextColumn("run", width="medium"),
    "error": st.column_config.TextColumn("error", width="large"),
    "checkpoints": st.column_config.NumberColumn("ckpts", width=55),
    "status": st.column_config.TextColumn("status", width=90),
    "health": st.column_config.TextColumn("health", help="The run's verdict from its metrics: learning, "
                                          "collapse k/N (classes covered), D winning, stalled, diverged, "
                                          "failed, too early; ? when its files cannot be read. The Train "
                                          "page explains it and says what to change."),
    "epoch": st.column_config.NumberColumn("done", width=55, help="epochs done"),
    "epochs": st.column_config.NumberColumn("planned", width=70, help="epochs planned"),
    "d_loss": st.column_config.NumberColumn("D loss", format="%.3f", width=70, help="last epoch's D loss"),
    "g_loss": st.column_config.NumberColumn("G loss", format="%.3f", width=70, help="last epoch's G loss"),
})
st.caption(f"{len(runs)} run(s) in `{core.runs_root()}`.")

"""Timelapse: a run's fixed-noise grids across epochs as one animation, the epoch written on each
frame; download it as a GIF or an MP4."""
from pathlib import Path

import streamlit as st

from ganlib.explore import timelapse
from ganlib.store.run_folder import Run
from ganlib.ui import core

core.page_setup("Timelapse")
st.title("Timelapse")
all_runs = core.list_runs()
if not all_runs:
    core.no_runs_info("Timelapse")
    st.stop()
runs = [r for r in all_runs if r.samples()]
if not runs:
    st.info("No run has written a sample grid yet; a run writes its first one when training starts.",
            icon=":material/info:")
    st.stop()


@st.cache_data(show_spinner="Building the animation...", max_entries=8)
def gif_for(path: str, stamp: tuple, fps: float, scale: int) -> bytes:
    return timelapse.timelapse_gif(Run(Path(path)), fps=fps, scale=scale)


@st.cache_data(show_spinner="Encoding the MP4...", max_entries=4)
def mp4_for(path: str, stamp: tuple, fps: float, scale: int) -> bytes:
    return timelapse.timelapse_mp4(Run(Path(path)), fps=fps, scale=scale)


c_run, c_fps, c_scale = st.columns([2, 1, 1])
with c_run:
    run = core.pick_run(runs, key="tl_run")
fps = c_fps.slider("Frames per second", 1, 20, 4, key="tl_fps")
scale = c_scale.select_slider("Enlarge", options=[1, 2, 3, 4], value=2, key="tl_scale",
                              help="Each grid pixel becomes this many pixels (nearest neighbour, no blur).")
grids = run.samples()
stamp = (len(grids), grids[-1][1].stat().st_mtime)  # a new grid makes a new animation
try:
    gif = gif_for(str(run.path), stamp, float(fps), int(scale))
except (FileNotFoundError, OSError, ValueError) as e:
    st.error(f"Cannot build the timelapse: {e}", icon=":material/error:")
    st.stop()

first, last = grids[0][0], grids[-1][0]
left, right = st.columns([3, 1])
left.image(gif, caption=f"{run.name}: {len(grids)} grids, epochs {first}–{last}, same noise in every frame")
with right:
    st.download_button("Download GIF", gif, f"{run.name}_timelapse.gif", "image/gif", key="tl_gif",
                       icon=":material/download:", on_click="ignore")
    st.download_button("Download MP4", lambda: mp4_for(str(run.path), stamp, float(fps), int(scale)),
                       f"{run.name}_timelapse.mp4", "video/mp4", key="tl_mp4",
                       icon=":material/movie:", on_click="ignore", help="H.264, encoded with PyAV")
    st.caption(f"From the command line: `python -m ganlib timelapse {run.name} --out {run.name}.gif`")

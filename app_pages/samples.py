"""Samples: the fixed-noise grid a run wrote after each epoch. **Grids** steps through them with
each epoch's losses and each sample's nearest training image; **Timelapse** animates them all
as one GIF (the epoch written on each frame), downloadable as GIF or MP4. The old /Timelapse
address opens the Timelapse tab."""
from pathlib import Path

import streamlit as st

from ganlib.explore import timelapse
from ganlib.store.run_folder import Run
from ganlib.ui import charts, epoch_view, pickers

TABS = ["Grids", "Timelapse"]

st.title("Samples")
runs = pickers.runs_or_stop("Samples", lambda r: bool(r.samples()),
                            "No run has written a sample grid yet; a run writes its first one when training starts.")


@st.cache_data(show_spinner="Building the animation...", max_entries=8)
def gif_for(path: str, stamp: tuple, fps: float, scale: int) -> bytes:
    return timelapse.timelapse_gif(Run(Path(path)), fps=fps, scale=scale)


@st.cache_data(show_spinner="Encoding the MP4...", max_entries=4)
def mp4_for(path: str, stamp: tuple, fps: float, scale: int) -> bytes:
    return timelapse.timelapse_mp4(Run(Path(path)), fps=fps, scale=scale)


run = pickers.pick_run(runs, key="samples_run")
grids = dict(run.samples())
epochs = sorted(grids)
tabs = dict(zip(TABS, st.tabs(TABS, key="samples_tab", on_change="rerun")))

with tabs["Grids"]:
    if tabs["Grids"].open:
        pos_key = f"samples_epoch_{run.name}"
        if st.session_state.get(pos_key) not in grids:
            st.session_state[pos_key] = epochs[-1]
        if len(epochs) > 1:
            epoch = st.select_slider("Epoch", options=epochs, key=pos_key,
                                     help="Epoch 0 is the untrained generator. Every grid uses the same noise; "
                                          "the **Timelapse** tab plays them all.")
        else:
            epoch = epochs[0]
            st.caption("Only the epoch-0 grid so far (the untrained generator).")
        path = grids[epoch]
        row = next((r for r in run.metrics() if r.get("epoch") == epoch), None)
        left, right = st.columns([3, 1])
        left.image(charts.load_grid(path), caption=f"{run.name}, epoch {epoch}", output_format="PNG")
        with right:
            if row and "d_loss" in row:
                st.metric("D loss", f"{row['d_loss']:.3f}")
                st.metric("G loss", f"{row['g_loss']:.3f}")
                terms = {label: row[k] for k, label in charts.TRANSLATION_TERMS.items() if k in row}
                if terms:  # a translator: its loss terms (unweighted) instead of D's outputs
                    st.caption(" · ".join(f"{label} {v:.3f}" for label, v in terms.items()))
                else:
                    d_real, d_fake = row.get("d_real", float("nan")), row.get("d_fake", float("nan"))
                    st.metric("D(x) / D(G(z))", f"{d_real:.2f} / {d_fake:.2f}")
            elif epoch == 0:
                st.caption("Epoch 0: the untrained generator.")
            st.download_button("Download PNG", data=path.read_bytes(), file_name=f"{run.name}_epoch_{epoch:04d}.png",
                               mime="image/png", key="download_png", icon=":material/download:", on_click="ignore")
        if st.toggle("Nearest training images", key="samples_neighbours",
                     help="Beside this grid, the training image closest (pixel L2) to each sample: copies show up "
                          "as twins."):
            epoch_view.neighbours(run, epoch)

with tabs["Timelapse"]:
    if tabs["Timelapse"].open:
        c_fps, c_scale, _ = st.columns([1, 1, 2])
        fps = c_fps.slider("Frames per second", 1, 20, 4, key="tl_fps")
        scale = c_scale.select_slider("Enlarge", options=[1, 2, 3, 4], value=2, key="tl_scale",
                                      help="Each grid pixel becomes this many pixels (nearest neighbour, no blur).")
        items = run.samples()
        stamp = (len(items), items[-1][1].stat().st_mtime)  # a new grid makes a new animation
        try:
            gif = gif_for(str(run.path), stamp, float(fps), int(scale))
        except (FileNotFoundError, OSError, ValueError) as e:
            st.error(f"Cannot build the timelapse: {e}", icon=":material/error:")
            st.stop()
        left, right = st.columns([3, 1])
        left.image(gif, caption=f"{run.name}: {len(items)} grids, epochs {items[0][0]}–{items[-1][0]}, same noise "
                                "in every frame")
        with right:
            st.download_button("Download GIF", gif, f"{run.name}_timelapse.gif", "image/gif", key="tl_gif",
                               icon=":material/download:", on_click="ignore")
            st.download_button("Download MP4", lambda: mp4_for(str(run.path), stamp, float(fps), int(scale)),
                               f"{run.name}_timelapse.mp4", "video/mp4", key="tl_mp4",
                               icon=":material/movie:", on_click="ignore", help="H.264, encoded with PyAV")
            st.caption(f"From the command line: `python -m ganlib timelapse {run.name} --out {run.name}.gif`")

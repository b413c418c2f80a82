"""Samples: the fixed-noise grid a run wrote after each epoch; step, play and download them."""
import streamlit as st

from ganlib.ui import charts, core, epoch_view

PLAY_EVERY_S = 0.7
PLAYING = "_samples_playing"  # session keys owned by no widget
SKIP_TICK = "_samples_skip_tick"

core.page_setup("Samples")
st.title("Samples")
all_runs = core.list_runs()
if not all_runs:
    core.no_runs_info("Samples")
    st.stop()
runs = [r for r in all_runs if r.samples()]
if not runs:
    st.info("No run has written a sample grid yet; a run writes its first one when training starts.")
    st.stop()

run = core.pick_run(runs, key="samples_run")
grids = dict(run.samples())
epochs = sorted(grids)
pos_key = f"samples_epoch_{run.name}"
if st.session_state.get(pos_key) not in grids:
    st.session_state[pos_key] = epochs[-1]
if st.session_state.get(PLAYING) not in (None, run.name):
    st.session_state[PLAYING] = None  # the run changed while playing

c1, c2, _ = st.columns([1, 1, 6])
if c1.button("Play", key="play", icon=":material/play_arrow:", disabled=len(epochs) < 2):
    st.session_state[PLAYING] = run.name
    st.session_state[SKIP_TICK] = True  # show the current frame first
    if st.session_state[pos_key] == epochs[-1]:
        st.session_state[pos_key] = epochs[0]
if c2.button("Stop", key="stop_play", icon=":material/stop:", disabled=st.session_state.get(PLAYING) is None):
    st.session_state[PLAYING] = None
playing = st.session_state.get(PLAYING) == run.name


def grid_view() -> None:
    if st.session_state.get(PLAYING) == run.name:
        if st.session_state.pop(SKIP_TICK, False):
            pass
        elif st.session_state[pos_key] != epochs[-1]:
            st.session_state[pos_key] = epochs[epochs.index(st.session_state[pos_key]) + 1]
        else:  # reached the last grid: stop, and redraw the page without the timer
            st.session_state[PLAYING] = None
            st.rerun()
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", options=epochs, key=pos_key,
                                 help="Epoch 0 is the untrained generator. Every grid uses the same noise.")
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
    if not st.session_state.get(PLAYING) and st.toggle(
            "Nearest training images", key="samples_neighbours",
            help="Beside this grid, the training image closest (pixel L2) to each sample: copies show up as twins."):
        epoch_view.neighbours(run, epoch)

st.fragment(grid_view, run_every=PLAY_EVERY_S if playing else None)()

"""Translate: a pix2pix or CycleGAN run's translations of held-out examples or uploaded images,
input | output | target (and, for a CycleGAN, the way back), in either direction it knows."""
import streamlit as st

from ganlib.explore import sampling, translation
from ganlib.ui import core

core.page_setup("Translate")
st.title("Translate")
runs = [r for r in core.list_runs() if translation.run_is_translation(r)]
if not runs:
    st.info("No image-to-image run yet. On **Train**, pick the model pix2pix (dataset edges2digits) or cyclegan "
            "(dataset digits2styled) and start it; its translations show up here.", icon=":material/info:")
    st.stop()

c_run, c_ck, c_dir = st.columns([2, 1, 1])
with c_run:
    run = core.pick_run(runs, key="tr_run")
ckpt = core.pick_checkpoint(run, "tr", c_ck)
if ckpt is None:
    st.info(f"{run.name} has no checkpoint yet: it writes one every checkpoint_every epochs and at the end.",
            icon=":material/info:")
    st.stop()
try:
    handle = sampling.get_generator(run, ckpt)
except (FileNotFoundError, ValueError, KeyError) as e:
    st.error(str(e).strip("'\""), icon=":material/error:")
    st.stop()
directions = translation.directions(handle)
direction = c_dir.radio("Direction", directions, key="tr_direction", horizontal=True,
                        help="A CycleGAN translates both ways; a pix2pix only the way it was trained.")

source = st.radio("Inputs", ["Held-out examples", "Upload images"], key="tr_source", horizontal=True)
try:
    if source == "Held-out examples":
        start = int(st.number_input("First example", 0, 10_000, 0, 8, key="tr_start",
                                    help="Images of the data's held-out split: never trained on."))
        count = st.slider("Examples", 1, 32, 8, key="tr_count")
        result = translation.held_out_translation(handle, direction, start, count)
    else:
        files = st.file_uploader("Images", type=["png", "jpg", "jpeg", "bmp", "webp"], accept_multiple_files=True,
                                 key="tr_upload")
        if not files:
            st.caption(f"Upload images of domain {direction[0]}; they are resized to "
                       f"{handle.config['image_size']} px.")
            st.stop()
        x = translation.inputs_from_bytes([f.getvalue() for f in files], int(handle.config["channels"]),
                                          int(handle.config["image_size"]))
        result = translation.translate_images(handle, x, direction)
except ValueError as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

names = " | ".join(result.panels)
st.image(result.grid(), output_format="PNG")
st.caption(f"{run.name}, epoch {handle.epoch}, {direction}, one example per row: {names}"
           + (" (back: the output translated back, the cycle)" if "back" in result.panels else ""))
st.download_button("Download PNG", result.png(), f"{run.name}_{direction}_epoch{handle.epoch:04d}.png", "image/png",
                   key="tr_png", icon=":material/download:", on_click="ignore")

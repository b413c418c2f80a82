"""The Generate page for an image-to-image run (pix2pix, CycleGAN): its translations of
held-out examples or uploaded images, input | output | target (and, for a CycleGAN, the way
back), in either direction it knows. The computation is `explore.translation`'s."""
from __future__ import annotations

import streamlit as st

from ganlib.explore import translation
from ganlib.models.handle import GeneratorHandle
from ganlib.store.run_folder import Run


def translate_view(run: Run, handle: GeneratorHandle) -> None:
    directions = translation.directions(handle)
    c_dir, c_src = st.columns([1, 2])
    direction = c_dir.radio("Direction", directions, key="tr_direction", horizontal=True,
                            help="A CycleGAN translates both ways; a pix2pix only the way it was trained.")
    source = c_src.radio("Inputs", ["Held-out examples", "Upload images"], key="tr_source", horizontal=True)
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
                return
            x = translation.inputs_from_bytes([f.getvalue() for f in files], int(handle.config["channels"]),
                                              int(handle.config["image_size"]))
            result = translation.translate_images(handle, x, direction)
    except ValueError as e:
        st.error(str(e), icon=":material/error:")
        return
    names = " | ".join(result.panels)
    st.image(result.grid(), output_format="PNG")
    st.caption(f"{run.name}, epoch {handle.epoch}, {direction}, one example per row: {names}"
               + (" (back: the output translated back, the cycle)" if "back" in result.panels else ""))
    st.download_button("Download PNG", result.png(), f"{run.name}_{direction}_epoch{handle.epoch:04d}.png",
                       "image/png", key="tr_png", icon=":material/download:", on_click="ignore")

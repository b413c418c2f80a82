"""Generate: new images from a run's checkpoint, with a fixed or random seed and, for
conditional models, one label for all images or one label per row. An image-to-image run
(pix2pix, CycleGAN) translates held-out or uploaded images instead (`ui.translate_view`); the
old /Translate address opens this page on the newest such run."""
import math
import random

import streamlit as st

from ganlib.explore import sampling, translation
from ganlib.ui import pickers
from ganlib.ui.translate_view import translate_view

RANDOM_SEED = "_generate_random_seed"  # session key owned by no widget

st.title("Generate")
run, ckpt, info = pickers.pick_generator("Generate", "gen", translators=True)
if translation.is_translator(info):
    translate_view(run, info)
    st.stop()

c1, c2, c3 = st.columns(3)
use_random = c1.checkbox("Random seed", key="gen_random", help="Draw a new seed with the button; the seed is shown "
                         "under the images so that you can reproduce them.")
if use_random:
    reroll = c1.button("New random seed", key="gen_reroll", icon=":material/casino:")  # drawn on every run
    if reroll or RANDOM_SEED not in st.session_state:
        st.session_state[RANDOM_SEED] = random.randrange(2**31)
    seed = st.session_state[RANDOM_SEED]
    c1.markdown(f"Seed: `{seed}`")
else:
    seed = int(c1.number_input("Seed", 0, 2**31 - 1, 0, 1, key="gen_seed"))

labels = None
classes = info.class_names or [str(i) for i in range(info.num_classes)]
if info.picks_labels:
    how = c2.radio("Labels", ["One label for all", "One label per row"], key="gen_label_mode")
    if how == "One label for all":
        labels = c2.selectbox("Label", range(info.num_classes), key="gen_label", format_func=lambda i: classes[i])
        n = c3.slider("Number of samples", 1, 256, 64, key="gen_n")
        nrow = c3.slider("Images per row", 1, 32, min(n, 8), key="gen_nrow")
    else:
        rows = c2.multiselect("Row labels (one row per label, top to bottom)", list(range(info.num_classes)),
                              default=list(range(min(info.num_classes, 10))), key="gen_row_labels",
                              format_func=lambda i: classes[i])
        nrow = c3.slider("Images per row", 1, 32, 8, key="gen_per_row")
        if not rows:
            st.warning("Pick at least one label: each picked label gets a row.")
            st.stop()
        labels = [lab for lab in rows for _ in range(nrow)]
        n = len(labels)
else:
    c2.caption("This run's model is unconditional: it takes no label." if not info.conditional else
               f"This run has one class ({classes[0]}): no label to choose.")
    n = c3.slider("Number of samples", 1, 256, 64, key="gen_n")
    nrow = c3.slider("Images per row", 1, 32, min(n, math.ceil(math.sqrt(n))), key="gen_nrow")

try:
    samples = sampling.generate(run, n, seed=seed, labels=labels, checkpoint=ckpt, nrow=nrow)
except (FileNotFoundError, ValueError) as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

st.image(samples.grid, caption=f"{n} samples from {run.name}, epoch {info.epoch}, seed {seed}",
         output_format="PNG")
d1, d2, _ = st.columns([1, 1, 4])
stem = f"{run.name}_epoch{info.epoch:04d}_seed{seed}"
d1.download_button("Download PNG", samples.png(), f"{stem}.png", "image/png", key="gen_png",
                   icon=":material/download:", on_click="ignore")
d2.download_button("Download NPZ", samples.npz(), f"{stem}.npz", "application/octet-stream", key="gen_npz",
                   icon=":material/download:", on_click="ignore",
                   help="numpy arrays `images` (uint8) and `labels` (-1 when unconditional)")

"""Latent walk: interpolate between two seeds (and two labels for conditional models),
linearly or along the sphere, as a strip and an animated GIF."""
import streamlit as st

from ganlib.explore import sampling
from ganlib.ui import core

MODES = {"slerp": "Spherical (slerp)", "linear": "Linear"}

core.page_setup("Latent walk")
st.title("Latent walk")
run, ckpt, info = core.pick_generator("Latent walk", "walk")

classes = info.class_names or [str(i) for i in range(info.num_classes)]
a, b, c = st.columns(3)
seed_a = int(a.number_input("Start seed", 0, 2**31 - 1, 0, 1, key="walk_seed_a"))
seed_b = int(b.number_input("End seed", 0, 2**31 - 1, 1, 1, key="walk_seed_b"))
label_a = label_b = None
if info.picks_labels:
    label_a = a.selectbox("Start label", range(info.num_classes), key="walk_label_a", format_func=lambda i: classes[i])
    label_b = b.selectbox("End label", range(info.num_classes), index=min(1, info.num_classes - 1),
                          key="walk_label_b", format_func=lambda i: classes[i])
steps = c.slider("Steps", 2, 32, 10, key="walk_steps")
mode = c.radio("Interpolation", list(MODES), format_func=MODES.get, key="walk_mode", horizontal=True,
               help="Spherical keeps the latent on the shell where Gaussian noise lives; linear cuts "
                    "through the middle, where the images often fade.")

try:
    walk = sampling.latent_walk(run, seed_a, seed_b, steps, mode=mode, label_a=label_a, label_b=label_b,
                                checkpoint=ckpt)
except (FileNotFoundError, ValueError) as e:
    st.error(str(e), icon=":material/error:")
    st.stop()

lab = f", label {classes[label_a]} → {classes[label_b]}" if info.picks_labels else ""
st.image(walk.strip, caption=f"{run.name}, epoch {info.epoch}: seed {seed_a} → {seed_b}{lab}, "
         f"{steps} steps, {MODES[mode].lower()}", output_format="PNG")
gif = walk.gif()
left, right = st.columns([1, 3])
left.image(gif, caption="Animated (forth and back)")
stem = f"{run.name}_walk_{seed_a}-{seed_b}_{mode}"
with right:
    st.download_button("Download GIF", gif, f"{stem}.gif", "image/gif", key="walk_gif",
                       icon=":material/download:", on_click="ignore")
    st.download_button("Download strip PNG", walk.strip_png(), f"{stem}.png", "image/png", key="walk_png",
                       icon=":material/download:", on_click="ignore")

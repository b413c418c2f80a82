"""The Latent explorer's Interpolate tab (it was the Latent walk page and the corner grid):
a walk between two seeds (and two labels for a conditional model), linearly or along the
sphere, as a strip and an animated GIF; or a grid between four corner latents. The pictures
come from `ganlib.explore` as PIL images and bytes: no torch here."""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import streamlit as st

from ganlib.explore import latent as lx
from ganlib.explore import sampling
from ganlib.models.handle import GeneratorHandle
from ganlib.store.run_folder import Run

MODES = {"slerp": "Spherical (slerp)", "linear": "Linear"}


def two_ends(run: Run, ckpt: Optional[str], info: GeneratorHandle, seed: int,
             label: Optional[int]) -> tuple[int, int, int]:
    """The walk from one seed to another; returns (start seed, end seed, steps) for a view that
    walks the same way (StyleGAN's Z against W)."""
    classes = info.class_names or [str(i) for i in range(info.num_classes)]
    a, b, c = st.columns(3)
    seed_a = int(a.number_input("Start seed", 0, 2**31 - 1, seed, 1, key="walk_seed_a", persist_state="page"))
    seed_b = int(b.number_input("End seed", 0, 2**31 - 1, seed + 1, 1, key="walk_seed_b", persist_state="page"))
    label_a = label_b = None
    if info.picks_labels:
        label_a = a.selectbox("Start label", range(info.num_classes), index=label or 0, key="walk_label_a",
                              format_func=lambda i: classes[i], persist_state="page")
        label_b = b.selectbox("End label", range(info.num_classes), index=min(1, info.num_classes - 1),
                              key="walk_label_b", format_func=lambda i: classes[i], persist_state="page")
    steps = c.slider("Steps", 2, 32, 10, key="walk_steps", persist_state="page")
    mode = c.radio("Interpolation", list(MODES), format_func=MODES.get, key="walk_mode", horizontal=True,
                   persist_state="page", help="Spherical keeps the latent on the shell where Gaussian noise lives; "
                                              "linear cuts through the middle, where the images often fade.")
    try:
        walk = sampling.latent_walk(run, seed_a, seed_b, steps, mode=mode, label_a=label_a, label_b=label_b,
                                    checkpoint=ckpt)
    except (FileNotFoundError, ValueError) as e:
        st.error(str(e), icon=":material/error:")
        return seed_a, seed_b, steps
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
    return seed_a, seed_b, steps


def four_corners(run: Run, ckpt: Optional[str], dim: int, z_edit: np.ndarray, label: Optional[int],
                 truncation: tuple[str, float]) -> None:
    st.caption("Four corner latents, by seed; the grid interpolates between them.")
    cc = st.columns(4)
    names = ["Top left", "Top right", "Bottom left", "Bottom right"]
    seeds = [int(cc[i].number_input(names[i], 0, 2**31 - 1, i + 1, 1, key=f"lx_corner_{i}", persist_state="page"))
             for i in range(4)]
    g1, g2, g3 = st.columns(3)
    use_current = g1.checkbox("Top left is the current latent", True, key="lx_corner_current", persist_state="page")
    size = g2.slider("Rows and columns", 3, 9, 5, key="lx_grid_n", persist_state="page")
    mode = g3.radio("Interpolation", list(lx.GRID_MODES), format_func=lx.GRID_MODES.get, key="lx_grid_mode",
                    persist_state="page")
    corners = lx.seed_latents(seeds, dim)
    if use_current:
        corners[0] = z_edit
    st.image(lx.render_corner_grid(run, corners, size, size, mode=mode, label=label, checkpoint=ckpt,
                                   truncation=truncation, scale=3),
             caption=f"{size}×{size}, {lx.GRID_MODES[mode].lower()}", output_format="PNG")


def interpolate_tab(run: Run, ckpt: Optional[str], info: GeneratorHandle, seed: int, label: Optional[int],
                    z_edit: np.ndarray, truncation: tuple[str, float],
                    also: Optional[Callable[[int, int, int], Any]] = None) -> None:
    """Two ends (and `also(seed_a, seed_b, steps)` below it: StyleGAN's walk in Z and W) or four corners."""
    how = st.segmented_control("Between", ["Two seeds", "Four corners"], default="Two seeds", key="walk_how",
                               persist_state="page") or "Two seeds"
    if how == "Two seeds":
        a, b, steps = two_ends(run, ckpt, info, seed, label)
        if also is not None:
            also(a, b, steps)
    else:
        four_corners(run, ckpt, info.latent_dim, z_edit, label, truncation)

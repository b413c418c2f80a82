"""The Latent explorer's tabs for a StyleGAN run (they were the Style explorer page): what each
of StyleGAN's parts does on the run's own generator (seed 003). Style mixing with its crossover
at coarse, middle or fine layers; noise drawn again at chosen layers under a fixed w with the
per-pixel std map; the same walk in Z and in W (`z_vs_w`, under Interpolate); and the
perceptual path length in Z and in W. Truncation in W is the Truncation curve tab's. The
pictures come from `ganlib.explore.style` as PIL images and numbers: no torch here.
"""
from __future__ import annotations

from typing import Optional

import streamlit as st

from ganlib.core.images import png_bytes
from ganlib.explore import style as sx
from ganlib.store.run_folder import Run

TABS = ["Style mixing", "Noise", "Path length"]


def psi_slider() -> float:
    """Truncation in W for the StyleGAN pictures (one value, kept across their tabs)."""
    return st.slider("Truncation ψ in W", 0.0, 1.0, 1.0, 0.05, key="sx_psi", persist_state="page",
                     help="w is pulled towards the mean w: w̄ + ψ (w − w̄). 1 is none; smaller trades variety for "
                          "typical samples. Its measured cost is on the **Truncation curve** tab (in W).")


def _seeds(text: str, name: str) -> Optional[list[int]]:
    """Seeds typed as "1, 2, 3"; None (with a one-line warning) for a bad entry."""
    try:
        out = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        out = []
    if not 1 <= len(out) <= 12:
        st.warning(f"{name}: type 1 to 12 whole-number seeds separated by commas.", icon=":material/warning:")
        return None
    return out


def _download(run: Run, image, name: str, key: str) -> None:
    st.download_button("Download PNG", png_bytes(image), f"{run.name}_{name}.png", "image/png", key=key,
                       icon=":material/download:", on_click="ignore")


def mixing_tab(run: Run, ckpt: Optional[str]) -> None:
    c1, c2, c3 = st.columns([2, 2, 1])
    rows = _seeds(c1.text_input("Row seeds (source A)", "1, 2, 3, 4", key="sx_rows", persist_state="page"),
                  "Row seeds")
    cols = _seeds(c2.text_input("Column seeds (source B)", "10, 11, 12, 13, 14", key="sx_cols",
                                persist_state="page"), "Column seeds")
    crossover = c3.radio("B's styles at", list(sx.CROSSOVERS), key="sx_cross", format_func=str.capitalize,
                         persist_state="page")
    psi = psi_slider()
    if rows is None or cols is None:
        return
    st.caption(f"Each cell is its row's w at every layer except the {sx.CROSSOVERS[crossover]} layers, "
               "which take its column's w (the StyleGAN paper's figure 3). The noise is the same in every cell.")
    pic = sx.mixing_picture(run, ckpt, rows, cols, crossover, psi)
    st.image(pic)
    _download(run, pic, f"style_mix_{crossover}", "sx_mix_dl")


def noise_tab(run: Run, ckpt: Optional[str]) -> None:
    names = sx.layer_names(run, ckpt)
    c1, c2 = st.columns([1, 3])
    seed = int(c1.number_input("Seed of w", 0, 2**31 - 1, 5, key="sx_noise_seed", persist_state="page"))
    n = int(c1.slider("Samples", 2, 16, 8, key="sx_noise_n", persist_state="page"))
    picked = c2.multiselect("Draw the noise again at", names, default=names, key="sx_noise_layers",
                            help="Every other layer keeps one fixed noise image.", persist_state="page")
    psi = psi_slider()
    layers = [names.index(p) for p in picked]
    samples, std = sx.noise_pictures(run, ckpt, seed, layers, n, psi=psi)
    st.image(samples, caption="One w, new noise at the chosen layers for each sample")
    st.image(std, caption="Per-pixel standard deviation over the samples (white: the noise moves it most)")
    if not layers:
        st.caption("No layer chosen: every sample is the same image, and the map is black.")
    d1, d2 = st.columns(2)
    with d1:
        _download(run, samples, "noise_samples", "sx_noise_dl")
    with d2:
        _download(run, std, "noise_std", "sx_std_dl")


def z_vs_w(run: Run, ckpt: Optional[str], a: int, b: int, steps: int) -> None:
    """The walk between two seeds in Z and in W, side by side (under the Interpolate tab)."""
    st.markdown("**The same walk in Z and in W** (StyleGAN's mapping network)")
    psi = psi_slider()
    z_pic, w_pic = sx.interpolation_pictures(run, ckpt, a, b, steps, psi)
    st.image(z_pic, caption="A straight line in Z, each point mapped to w")
    st.image(w_pic, caption="A straight line in W between the same two ends")
    st.caption("If W is less entangled than Z, the walk in W changes the digit more evenly. "
               "The **Path length** tab measures it.")
    d1, d2 = st.columns(2)
    with d1:
        _download(run, z_pic, "walk_z", "sx_z_dl")
    with d2:
        _download(run, w_pic, "walk_w", "sx_w_dl")


def path_length_tab(run: Run, ckpt: Optional[str]) -> None:
    st.caption("Perceptual path length (Karras et al. 2019): how much the picture changes for a step of "
               "ε = 1e-4 along a random path, in Z and in W. **LPIPS is not available offline**, so the "
               "distance is the squared distance of the digit classifier's features: compare Z with W on "
               "this model, not with the paper's numbers. Lower is smoother.")
    n = st.select_slider("Pairs", [200, 500, 1000, 2000], value=500, key="sx_ppl_n", persist_state="page")
    key = f"sx_ppl_{run.name}_{ckpt}_{n}"
    if st.button("Measure", key="sx_ppl_go", icon=":material/straighten:"):
        with st.spinner(f"{n:,} pairs in Z and in W..."):
            st.session_state[key] = [sx.path_length(sx.style_handle(run, ckpt), s, n=n) for s in sx.SPACES]
    result = st.session_state.get(key)
    if result:
        cols = st.columns(len(result))
        for col, r in zip(cols, result):
            col.metric(f"PPL in {r['space'].upper()}", f"{r['ppl']:.4g}")
        z, w = (r["ppl"] for r in result)
        st.write("W is smoother than Z on this model." if w < z else
                 "Here W is not smoother than Z: the mapping network has not (yet) untangled Z.")


TAB_VIEWS = {"Style mixing": mixing_tab, "Noise": noise_tab, "Path length": path_length_tab}

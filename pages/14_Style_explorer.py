"""Style explorer: what each of StyleGAN's parts does, on a stylegan run's own generator (seed
003): the style-mixing grid with its crossover at coarse, middle or fine layers, noise drawn
again at chosen layers under a fixed w with the per-pixel std map, the same walk in Z and in W,
truncation in W with its measured FID / precision / recall, and the perceptual path length in
Z and in W. The page holds no torch: `ganlib.explore.style` returns PIL images and numbers.
"""
import streamlit as st

from ganlib.core.images import png_bytes
from ganlib.explore import style as sx
from ganlib.ui import core
from ganlib.ui.curve_panel import truncation_curve_panel

TABS = ["Style mixing", "Noise", "Z vs W", "Truncation in W", "Path length"]


def seeds(text: str, name: str) -> list[int]:
    """Seeds typed as "1, 2, 3"; a bad entry stops the tab with a one-line message."""
    try:
        out = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        out = []
    if not 1 <= len(out) <= 12:
        st.warning(f"{name}: type 1 to 12 whole-number seeds separated by commas.", icon=":material/warning:")
        st.stop()
    return out


def download(image, name: str, key: str) -> None:
    st.download_button("Download PNG", png_bytes(image), f"{run.name}_{name}.png", "image/png", key=key,
                       icon=":material/download:", on_click="ignore")


core.page_setup("Style explorer")
st.title("Style explorer")
run, ckpt, info = core.pick_generator("the Style explorer", "sx")
if info.config.get("model") != "stylegan":
    st.info(f"{run.name} trains {info.config.get('model')}. The Style explorer shows the parts of a StyleGAN: "
            "train one with model **stylegan** on the Train page (or `python -m ganlib train --model stylegan`).",
            icon=":material/info:")
    st.stop()
psi = st.slider("Truncation ψ in W", 0.0, 1.0, 1.0, 0.05, key="sx_psi",
                help="w is pulled towards the mean w: w̄ + ψ (w − w̄). 1 is none; smaller trades variety for "
                     "typical samples. Its measured cost is on the **Truncation in W** tab.")
tabs = dict(zip(TABS, st.tabs(TABS, key="sx_tab", on_change="rerun")))

with tabs["Style mixing"]:
    if tabs["Style mixing"].open:
        c1, c2, c3 = st.columns([2, 2, 1])
        rows = seeds(c1.text_input("Row seeds (source A)", "1, 2, 3, 4", key="sx_rows"), "Row seeds")
        cols = seeds(c2.text_input("Column seeds (source B)", "10, 11, 12, 13, 14", key="sx_cols"), "Column seeds")
        crossover = c3.radio("B's styles at", list(sx.CROSSOVERS), key="sx_cross", format_func=str.capitalize)
        st.caption(f"Each cell is its row's w at every layer except the {sx.CROSSOVERS[crossover]} layers, "
                   "which take its column's w (the StyleGAN paper's figure 3). The noise is the same in every cell.")
        pic = sx.mixing_picture(run, ckpt, rows, cols, crossover, psi)
        st.image(pic)
        download(pic, f"style_mix_{crossover}", "sx_mix_dl")

with tabs["Noise"]:
    if tabs["Noise"].open:
        names = sx.layer_names(run, ckpt)
        c1, c2 = st.columns([1, 3])
        seed = int(c1.number_input("Seed of w", 0, 2**31 - 1, 5, key="sx_noise_seed"))
        n = int(c1.slider("Samples", 2, 16, 8, key="sx_noise_n"))
        picked = c2.multiselect("Draw the noise again at", names, default=names, key="sx_noise_layers",
                                help="Every other layer keeps one fixed noise image.")
        layers = [names.index(p) for p in picked]
        samples, std = sx.noise_pictures(run, ckpt, seed, layers, n, psi=psi)
        st.image(samples, caption="One w, new noise at the chosen layers for each sample")
        st.image(std, caption="Per-pixel standard deviation over the samples (white: the noise moves it most)")
        if not layers:
            st.caption("No layer chosen: every sample is the same image, and the map is black.")
        d1, d2 = st.columns(2)
        with d1:
            download(samples, "noise_samples", "sx_noise_dl")
        with d2:
            download(std, "noise_std", "sx_std_dl")

with tabs["Z vs W"]:
    if tabs["Z vs W"].open:
        c1, c2, c3 = st.columns(3)
        a = int(c1.number_input("From seed", 0, 2**31 - 1, 1, key="sx_from"))
        b = int(c2.number_input("To seed", 0, 2**31 - 1, 2, key="sx_to"))
        steps = int(c3.slider("Steps", 3, 16, 10, key="sx_steps"))
        z_pic, w_pic = sx.interpolation_pictures(run, ckpt, a, b, steps, psi)
        st.image(z_pic, caption="A straight line in Z, each point mapped to w")
        st.image(w_pic, caption="A straight line in W between the same two ends")
        st.caption("If W is less entangled than Z, the walk in W changes the digit more evenly. "
                   "The **Path length** tab measures it.")
        d1, d2 = st.columns(2)
        with d1:
            download(z_pic, "walk_z", "sx_z_dl")
        with d2:
            download(w_pic, "walk_w", "sx_w_dl")

with tabs["Truncation in W"]:
    if tabs["Truncation in W"].open:
        curve_n = st.select_slider("Samples per point (N)", [250, 500, 1000, 2000], value=1000, key="sx_curve_n")
        curve = sx.load_w_truncation_curve(run, ckpt, n=curve_n)
        truncation_curve_panel(
            curve, lambda progress: sx.w_truncation_curve(run, ckpt, n=curve_n, recompute=True, progress=progress),
            psi, "sx_curve", "Not measured yet for this checkpoint: press **Measure the curve** (about a minute on a "
            "CPU). It uses the one evaluation pipeline, as every FID in the workbench.")

with tabs["Path length"]:
    if tabs["Path length"].open:
        st.caption("Perceptual path length (Karras et al. 2019): how much the picture changes for a step of "
                   "ε = 1e-4 along a random path, in Z and in W. **LPIPS is not available offline**, so the "
                   "distance is the squared distance of the digit classifier's features: compare Z with W on "
                   "this model, not with the paper's numbers. Lower is smoother.")
        n = st.select_slider("Pairs", [200, 500, 1000, 2000], value=500, key="sx_ppl_n")
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

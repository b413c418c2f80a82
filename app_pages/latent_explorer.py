"""Latent explorer: one latent vector, edited by seed, random draw and sliders along GANSpace
principal directions; truncation with its measured quality curve; interpolation between two
seeds (a strip and an animated GIF: it was the Latent walk page) or four corner latents; a class
morph for conditional models; latent arithmetic; pinned favourites. A StyleGAN run adds the
tabs of its parts (they were the Style explorer page: `ui.style_view`), its walk in Z and W under
Interpolate and truncation in W on the Truncation curve tab. The old /Latent_walk and
/Style_explorer addresses open the Interpolate and Style mixing tabs.

The page holds no torch: `ganlib.explore.latent` takes and returns numpy arrays and images.
Tabs run lazily (only the open one computes); widgets inside them keep their values while
hidden (`persist_state="page"`), so the direction sliders still shape the current latent.
"""
import math

import numpy as np
import streamlit as st

from ganlib.explore import latent as lx
from ganlib.ui import pickers, style_view
from ganlib.ui.curve_panel import truncation_curve_panel
from ganlib.ui.walk_view import interpolate_tab

OVERRIDE = "_lx_override"  # a latent that replaces the seed's (a favourite, an arithmetic result)
DIRS_SIG = "_lx_dirs_signature"  # what the direction sliders were set for
MAX_DIRS = 20
THRESHOLDS = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, math.inf]

st.title("Latent explorer")
run, ckpt, info = pickers.pick_generator("the Latent explorer", "lx")
stylegan = info.config.get("model") == "stylegan"

dim = info.latent_dim
classes = info.class_names or [str(i) for i in range(info.num_classes)]
n_dirs_max = min(MAX_DIRS, dim)


# ---- state helpers (callbacks run before the script, so they may set widget values) ----------
def dir_keys(k: int) -> list[str]:
    return [f"lx_dir_{i}" for i in range(k)]


def reset_dirs() -> None:
    for key in dir_keys(MAX_DIRS):
        st.session_state[key] = 0.0


def clear_override() -> None:
    st.session_state.pop(OVERRIDE, None)


def new_random_seed() -> None:
    st.session_state["lx_seed"] = lx.random_seed()
    clear_override()


def use_latent(z, source: str, seed=None, label=None) -> None:
    st.session_state[OVERRIDE] = {"run": run.name, "z": [float(v) for v in z], "source": source, "seed": seed}
    if seed is not None:
        st.session_state["lx_seed"] = int(seed)
    if label is not None and info.picks_labels:
        st.session_state["lx_label"] = int(label)
    reset_dirs()


# ---- the latent's controls ------------------------------------------------------------------
st.session_state.setdefault("lx_seed", 0)
c1, c2, c3 = st.columns([1, 1, 2])
seed = int(c1.number_input("Seed", 0, 2**31 - 1, step=1, key="lx_seed", on_change=clear_override,
                           help="The same seed gives the same latent on every page."))
c1.button("Random draw", key="lx_random", icon=":material/casino:", on_click=new_random_seed)
label = None
if info.picks_labels:
    label = c2.selectbox("Class", range(info.num_classes), key="lx_label", format_func=lambda i: classes[i])
else:
    c2.caption("Unconditional model: no class to choose." if not info.conditional else "One class: none to choose.")
method = c3.radio("Truncation", list(lx.TRUNCATION_METHODS), format_func=lx.TRUNCATION_METHODS.get,
                  key="lx_trunc_method", horizontal=True,
                  help="The truncation trick trades variety for typical, cleaner samples. Measure what it "
                       "costs on the **Truncation curve** tab.")
if method == "scale":
    trunc_value = c3.slider("ψ", 0.0, 1.0, 1.0, 0.05, key="lx_psi", persist_state="page",
                            help="z is scaled towards the mean (0): z·ψ.")
else:
    trunc_value = c3.select_slider("Threshold", THRESHOLDS, value=math.inf, key="lx_threshold",
                                   format_func=lambda v: "off" if math.isinf(v) else f"{v:g}", persist_state="page",
                                   help="Values of z with |zᵢ| above it are drawn again.")
truncation = (method, float(trunc_value))

override = st.session_state.get(OVERRIDE)
if override and (override.get("run") != run.name or len(override.get("z", [])) != dim):
    override = None
base = np.asarray(override["z"], np.float32) if override else lx.seed_latent(seed, dim)
source = override["source"] if override else f"seed {seed}"

# ---- principal directions (settings live in the Directions tab, read here by key) ------------
layer_list = lx.run_layers(run, ckpt)
layer_names = [entry.name for entry in layer_list]
default_layer = lx.default_layer(layer_list)
layer_key = f"lx_layer_{run.name}"
if st.session_state.get(layer_key) not in layer_names:
    st.session_state[layer_key] = default_layer
layer = st.session_state[layer_key]
k = min(int(st.session_state.get("lx_k", min(8, n_dirs_max))), n_dirs_max)
pca_n = int(st.session_state.get("lx_pca_n", lx.PCA_SAMPLES))
signature = (run.name, ckpt, layer, label, pca_n)
if st.session_state.get(DIRS_SIG) != signature:  # new directions: the old slider values mean nothing
    reset_dirs()
    st.session_state[DIRS_SIG] = signature
for key in dir_keys(MAX_DIRS):
    st.session_state.setdefault(key, 0.0)
coeffs = [float(st.session_state[key]) for key in dir_keys(k)]
try:
    with st.spinner(f"Finding principal directions ({pca_n:,} samples)..."):
        dirs = lx.run_directions(run, ckpt, layer=layer, label=label, n=pca_n, k=k)
except ValueError as e:  # e.g. a layer whose activations do not depend on z
    st.warning(f"No principal directions at `{layer}`: {e}. Pick another layer under PCA settings.")
    dirs = lx.Directions(np.zeros((0, dim), np.float32), np.zeros(0), np.zeros(0), layer, pca_n, label)
z_edit = lx.move(base, dirs, coeffs[:len(dirs)])
z_view = lx.apply_truncation(z_edit, *truncation)

# ---- the current latent ---------------------------------------------------------------------
left, right = st.columns([1, 2], gap="large")
with left:
    moved = ", ".join(f"PC{i + 1} {c:+.1f}" for i, c in enumerate(coeffs[:len(dirs)]) if c)
    if method == "scale":
        trunc_txt = "" if truncation[1] == 1.0 else f", ψ {truncation[1]:g}"
    else:
        trunc_txt = "" if math.isinf(truncation[1]) else f", threshold {truncation[1]:g}"
    caption = f"{source}{' + ' + moved if moved else ''}{trunc_txt}"
    if info.picks_labels:
        caption += f", class {classes[label]}"
    st.image(lx.render(run, [z_view], label=label, checkpoint=ckpt, scale=8), caption=caption, output_format="PNG")
    if override:
        st.caption(f"The latent comes from {source}; change the seed or draw to go back to seeds.")
    with st.form("lx_pin_form", border=False):
        name = st.text_input("Name", key="lx_pin_name", placeholder=caption[:60])
        if st.form_submit_button("Pin as favourite", icon=":material/push_pin:"):
            fav = lx.Favourite(name.strip() or caption[:60], [float(v) for v in z_edit],
                               None if override or moved else seed, label)
            try:
                lx.add_favourite(run, fav)
                st.success(f"Pinned **{fav.name}** to {run.favourites_file.name}.", icon=":material/push_pin:")
            except ValueError as e:
                st.error(str(e), icon=":material/error:")

# ---- the views ------------------------------------------------------------------------------
tab_names = ["Directions", "Truncation curve", "Interpolate", "Class morph", "Arithmetic", "Favourites"]
tab_names += style_view.TABS if stylegan else []
with right:
    tabs = dict(zip(tab_names, st.tabs(tab_names, key="lx_tab", on_change="rerun")))

with tabs["Directions"]:
    if tabs["Directions"].open:
        with st.expander("PCA settings"):
            s1, s2, s3 = st.columns(3)
            s1.selectbox("Layer", layer_names, key=layer_key, persist_state="page",
                         format_func=lambda n: next(entry.label() for entry in layer_list if entry.name == n),
                         help=f"Default: the first hidden block's output ({default_layer}).")
            s2.select_slider("Samples", [500, 1000, 2000, 5000], value=lx.PCA_SAMPLES, key="lx_pca_n",
                             persist_state="page")
            if n_dirs_max > 1:
                s3.slider("Directions", 1, n_dirs_max, min(8, n_dirs_max), key="lx_k", persist_state="page")
        ratio = float(np.sum(dirs.variance_ratio))
        st.caption(f"GANSpace: PCA of `{dirs.layer}` over {dirs.n:,} latents"
                   + (f" of class {classes[dirs.label]}" if dirs.label is not None else "")
                   + f"; these {len(dirs)} components explain {ratio:.0%} of its variance. Each slider moves "
                   "the latent along the z-direction that produces one component (units: standard deviations "
                   "of z); each strip moves the current latent from -span to +span along it.")
        b1, b2 = st.columns([3, 1])
        span = b1.slider("Strip span", 0.5, 6.0, 3.0, 0.5, key="lx_span", persist_state="page")
        b2.button("Reset sliders", key="lx_reset_dirs", on_click=reset_dirs, icon=":material/restart_alt:")
        strips = lx.direction_strips(run, z_edit, dirs, span=span, steps=7, label=label, checkpoint=ckpt,
                                     truncation=truncation) if len(dirs) else []
        for i, strip in enumerate(strips):
            a, b = st.columns([1, 3], vertical_alignment="center")
            a.slider(f"PC{i + 1} · {dirs.variance_ratio[i]:.1%}", -5.0, 5.0, step=0.1, key=f"lx_dir_{i}",
                     persist_state="page")
            b.image(strip, output_format="PNG")

with tabs["Truncation curve"]:
    if tabs["Truncation curve"].open:
        t1, t2 = st.columns([1, 2])
        curve_n = t1.select_slider("Samples per point (N)", [250, 500, 1000, 2000], value=lx.CURVE_N,
                                   key="lx_curve_n", persist_state="page")
        in_w = stylegan and t1.segmented_control(
            "Truncate", ["z (the method above)", "w (StyleGAN's ψ)"], default="z (the method above)",
            key="lx_curve_space", persist_state="page") == "w (StyleGAN's ψ)"
        curve_method = "w" if in_w else method
        extractor, note = lx.resolve(run, "auto")
        t2.caption(f"FID, precision and recall of {curve_n:,} samples against as many real images, with the "
                   f"`{extractor}` extractor, at each value of "
                   + ("ψ in W (w̄ + ψ (w − w̄))" if in_w else "the truncation method chosen above")
                   + ". Measured once per checkpoint and kept in the run folder." + (f" {note}" if note else ""))
        curve = lx.load_truncation_curve(run, ckpt, method=curve_method, n=curve_n)
        truncation_curve_panel(
            curve, lambda progress: lx.truncation_curve(run, ckpt, method=curve_method, n=curve_n, recompute=True,
                                                        progress=progress),
            st.session_state.get("sx_psi", 1.0) if in_w else truncation[1], "lx_curve",
            "Not measured yet for this checkpoint and method: press **Measure the curve** (about a minute on a "
            "CPU). It uses the one evaluation, as every FID in the workbench.")

with tabs["Interpolate"]:
    if tabs["Interpolate"].open:
        interpolate_tab(run, ckpt, info, seed, label, z_edit, truncation,
                        also=(lambda a, b, steps: style_view.z_vs_w(run, ckpt, a, b, steps)) if stylegan else None)

with tabs["Class morph"]:
    if tabs["Class morph"].open and not info.picks_labels:
        st.info("This run's model is unconditional: it has no class embedding to morph. Train a conditional "
                "model (cgan, cdcgan) to blend one class into another." if not info.conditional else
                "This run's data has one class: there is no other class to morph into.", icon=":material/info:")
    elif tabs["Class morph"].open:
        m1, m2, m3 = st.columns(3)
        la = m1.selectbox("From class", range(info.num_classes), index=label, key="lx_morph_a",
                          format_func=lambda i: classes[i], persist_state="page")
        lb = m2.selectbox("To class", range(info.num_classes), index=(label + 1) % info.num_classes,
                          key="lx_morph_b", format_func=lambda i: classes[i], persist_state="page")
        steps = m3.slider("Steps", 3, 16, 8, key="lx_morph_steps", persist_state="page")
        extra = m3.slider("More rows (the seeds after the current one)", 0, 7, 3, key="lx_morph_rows",
                          persist_state="page")
        zs = np.concatenate([z_edit[None], lx.seed_latents(range(seed + 1, seed + 1 + extra), dim)])
        strips = lx.class_morph(run, lx.apply_truncation(zs, *truncation), la, lb, steps, checkpoint=ckpt)
        st.caption(f"The label embedding blended from {classes[la]} to {classes[lb]} with each latent held "
                   "fixed (first row: the current latent).")
        st.image(strips, output_format="PNG")

with tabs["Arithmetic"]:
    if tabs["Arithmetic"].open:
        a1, a2 = st.columns(2)
        first = int(a1.number_input("First seed of the grid", 0, 2**31 - 100, 100, 1, key="lx_ar_base",
                                    persist_state="page"))
        count = a2.slider("Samples", 8, 32, 16, 4, key="lx_ar_count", persist_state="page")
        seeds = list(range(first, first + count))
        fmt = lambda i: f"#{i} (seed {seeds[i]})"  # noqa: E731
        st.image(lx.render_each(run, lx.apply_truncation(lx.seed_latents(seeds, dim), *truncation), label=label,
                                checkpoint=ckpt, scale=2),
                 caption=[f"#{i}" for i in range(count)], output_format="PNG")
        p1, p2, p3 = st.columns(3)
        ga = p1.multiselect("A (added)", range(count), key="lx_ar_a", format_func=fmt, persist_state="page")
        gb = p2.multiselect("B (subtracted)", range(count), key="lx_ar_b", format_func=fmt, persist_state="page")
        gc = p3.multiselect("C (added)", range(count), key="lx_ar_c", format_func=fmt, persist_state="page")
        if not ga:
            st.info("Pick samples for A (and optionally B and C): the result is mean(A) − mean(B) + mean(C).",
                    icon=":material/info:")
        else:
            zs = lx.seed_latents(seeds, dim)
            groups = [zs[list(g)] for g in (ga, gb, gc)]
            result = lx.latent_arithmetic(*groups)
            parts = [lx.latent_mean(g) if len(g) else None for g in groups]
            shown = [(n, p) for n, p in zip(["mean(A)", "mean(B)", "mean(C)"], parts) if p is not None]
            imgs = lx.render_each(run, lx.apply_truncation(np.stack([p for _, p in shown] + [result]), *truncation),
                                  label=label, checkpoint=ckpt, scale=4)
            formula = "mean(A)" + (" − mean(B)" if gb else "") + (" + mean(C)" if gc else "")
            st.image(imgs, caption=[n for n, _ in shown] + [f"= {formula}"], output_format="PNG")
            st.button("Use the result as the current latent", key="lx_ar_use", icon=":material/input:",
                      on_click=use_latent, args=(result, f"arithmetic {formula}"))

with tabs["Favourites"]:
    if tabs["Favourites"].open:
        try:
            favs = lx.load_favourites(run)
        except ValueError as e:
            st.error(str(e), icon=":material/error:")
            favs = []
        fit = [f for f in favs if len(f.latent) == dim]
        if len(fit) < len(favs):
            st.warning(f"{len(favs) - len(fit)} favourite(s) have a latent of another length and are not shown.")
        if not fit:
            st.info("No favourites yet: **Pin as favourite** under the current image saves its latent "
                    f"(and seed and class) to {run.favourites_file.name} in the run folder.", icon=":material/info:")
        else:
            labels_ = [f.label if info.conditional and f.label is not None else (0 if info.conditional else None)
                       for f in fit]
            imgs = lx.render_each(run, lx.apply_truncation(np.asarray([f.latent for f in fit], np.float32),
                                                           *truncation),
                                  label=labels_ if info.conditional else None, checkpoint=ckpt, scale=3)
            st.image(imgs, caption=[f.name for f in fit], output_format="PNG")
            by_name = {f.name: f for f in fit}
            f1, f2, f3 = st.columns([2, 1, 1], vertical_alignment="bottom")
            pick = f1.selectbox("Favourite", list(by_name), key="lx_fav_pick", persist_state="page")
            fav = by_name[pick]
            f2.button("Load", key="lx_fav_load", icon=":material/upload:", on_click=use_latent,
                      args=(fav.latent, f"favourite '{fav.name}'", fav.seed, fav.label))
            if f3.button("Delete", key="lx_fav_delete", icon=":material/delete:"):
                lx.remove_favourite(run, pick)
                st.rerun()
            st.download_button("Download favourites.json", lx.favourites_path(run).read_bytes(),
                               f"{run.name}_favourites.json", "application/json", key="lx_fav_download",
                               icon=":material/download:", on_click="ignore")

for name, view in style_view.TAB_VIEWS.items():
    if stylegan:
        with tabs[name]:
            if tabs[name].open:
                view(run, ckpt)

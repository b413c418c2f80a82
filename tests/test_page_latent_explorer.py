"""The Latent explorer through AppTest on tiny real runs: directions, truncation, interpolation
(the walk between two seeds with its GIF: it was the Latent walk page; the corner grid), class
morphs, arithmetic and favourites. Its StyleGAN tabs are tested in test_style_explorer.py."""
from __future__ import annotations

from ganlib.explore import latent as lx
from tests.helpers import page, run


def captions(at) -> list[str]:
    return [im.caption for el in at.image for im in el.proto.imgs]


def test_explorer_edits_the_latent_and_pins_a_favourite(runs):
    at = page("app_pages/latent_explorer.py", timeout=120)
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_k"] = 4
    run(at)
    assert captions(at)[0] == "seed 0"
    first = at.image[0].value
    assert len(at.image) == 1 + 4  # the latent and one strip per direction
    at.slider(key="lx_dir_0").set_value(2.0)
    run(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0" and at.image[0].value != first
    at.slider(key="lx_psi").set_value(0.5)
    run(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, ψ 0.5"
    at.radio(key="lx_trunc_method").set_value("resample")
    run(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0"  # threshold off
    at.select_slider(key="lx_threshold").set_value(1.0)
    run(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, threshold 1"
    at.radio(key="lx_trunc_method").set_value("scale")
    run(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, ψ 0.5"  # each method keeps its value
    at.text_input(key="lx_pin_name").input("pc1 up")
    at.button(key="FormSubmitter:lx_pin_form-Pin as favourite").click()
    run(at)
    assert any("pc1 up" in s.value for s in at.success)
    (fav,) = lx.load_favourites(runs.mlp)
    assert fav.name == "pc1 up" and fav.seed is None and len(fav.latent) == 100

    at.button(key="lx_random").click()
    run(at)
    seed = at.number_input(key="lx_seed").value
    assert captions(at)[0].startswith(f"seed {seed} + PC1")

    at.session_state["lx_tab"] = "Favourites"
    run(at)
    assert "pc1 up" in captions(at)
    at.button(key="lx_fav_load").click()
    run(at)
    assert captions(at)[0].startswith("favourite 'pc1 up'")  # direction sliders reset to 0
    assert at.session_state["lx_dir_0"] == 0.0
    at.button(key="lx_fav_delete").click()
    run(at)
    assert lx.load_favourites(runs.mlp) == [] and at.info


def test_explorer_grid_arithmetic_and_truncation_curve(runs, monkeypatch):
    monkeypatch.setitem(lx.CURVE_VALUES, "scale", (0.5, 1.0))
    at = page("app_pages/latent_explorer.py", timeout=120)
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_k"] = 2
    run(at)
    at.session_state["lx_tab"] = "Interpolate"
    run(at)
    at.segmented_control(key="walk_how").set_value("Four corners")
    run(at)
    at.slider(key="lx_grid_n").set_value(3)
    at.radio(key="lx_grid_mode").set_value("linear")
    run(at)
    assert "3×3, bilinear" in captions(at)

    at.session_state["lx_tab"] = "Arithmetic"
    run(at)
    assert [f"#{i}" for i in range(16)] == captions(at)[1:17]
    at.multiselect(key="lx_ar_a").set_value([0, 1])
    at.multiselect(key="lx_ar_b").set_value([2])
    run(at)
    assert captions(at)[-3:] == ["mean(A)", "mean(B)", "= mean(A) − mean(B)"]
    at.button(key="lx_ar_use").click()
    run(at)
    assert captions(at)[0] == "arithmetic mean(A) − mean(B)"

    at.session_state["lx_tab"] = "Truncation curve"
    run(at)
    assert any("Not measured yet" in i.value for i in at.info)
    at.select_slider(key="lx_curve_n").set_value(500)
    at.button(key="lx_curve_go").click()
    run(at)
    assert at.get("plotly_chart") and not at.error
    run(at)  # measured once: the next visit reads the cached curve
    assert at.get("plotly_chart") and at.button(key="lx_curve_go").label == "Measure again"
    assert lx.load_truncation_curve(runs.mlp, method="scale", n=500).values == [0.5, 1.0]
    assert any("N capped" in c.value for c in at.caption)  # 256 images in the data


def test_explorer_conditional_class_morph(runs):
    at = page("app_pages/latent_explorer.py", timeout=120)
    at.session_state["lx_run"] = runs.cgan.name
    at.session_state["lx_k"] = 2
    run(at)
    at.selectbox(key="lx_label").set_value(3)
    run(at)
    assert captions(at)[0] == "seed 0, class 3"
    at.session_state["lx_tab"] = "Class morph"
    run(at)
    at.selectbox(key="lx_morph_b").set_value(8)
    at.slider(key="lx_morph_rows").set_value(1)
    run(at)
    assert len(at.image[-1].proto.imgs) == 2  # the current latent and one more seed
    assert any("from 3 to 8" in c.value for c in at.caption)


def test_explorer_unconditional_morph_and_missing_checkpoint(runs):
    at = page("app_pages/latent_explorer.py", timeout=120)
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_tab"] = "Class morph"
    at.session_state["lx_k"] = 1
    run(at)
    assert any("unconditional" in i.value for i in at.info)
    at.selectbox(key="lx_run").set_value(runs.fresh)
    run(at)
    assert any("no checkpoint" in e.value for e in at.error) and not at.image



def test_latent_walk_conditional_strip_and_gif(runs):
    at = page("app_pages/latent_explorer.py", timeout=120)
    for key, value in (("lx_run", runs.cgan.name), ("lx_k", 1), ("lx_pca_n", 500), ("lx_tab", "Interpolate")):
        at.session_state[key] = value
    run(at)
    at.selectbox(key="walk_label_a").set_value(3)
    at.selectbox(key="walk_label_b").set_value(8)
    at.slider(key="walk_steps").set_value(6)
    at.radio(key="walk_mode").set_value("linear")
    run(at)
    current, strip, gif = at.image  # the current latent, then the walk
    assert strip.value[0].endswith(".png") and gif.value[0].endswith(".gif")
    assert "label 3 → 8, 6 steps, linear" in strip.proto.imgs[0].caption
    assert at.download_button(key="walk_gif").label == "Download GIF"


def test_latent_walk_unconditional_has_no_labels(runs):
    at = page("app_pages/latent_explorer.py", timeout=120)
    for key, value in (("lx_run", runs.mlp.name), ("lx_k", 1), ("lx_pca_n", 500), ("lx_tab", "Interpolate")):
        at.session_state[key] = value
    run(at)
    assert not [s for s in at.selectbox if s.key and s.key.startswith("walk_label")]
    assert len(at.image) == 3  # the current latent, the strip and its GIF

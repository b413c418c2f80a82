"""StyleGAN's front ends on a tiny real stylegan run: the `style-mix` and `ppl` commands, the
truncation curve in W through the one pipeline, and the Latent explorer's StyleGAN tabs."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from ganlib.cli import main
from ganlib.engine.training import train
from ganlib.explore import latent as lx
from ganlib.store.config import TrainConfig
from tests.helpers import page, run

TINY = dict(max_images=128, batch_size=32, epochs=1, device="cpu", eval_every=0, latent_dim=16, mapping_layers=2)


@pytest.fixture(scope="module")
def runs():
    sg = train(TrainConfig(model="stylegan", **TINY))
    other = train(TrainConfig(**{**TINY, "mapping_layers": 4}))
    assert sg.state == other.state == "completed"
    return sg.run, other.run


def test_style_mix_writes_the_grid(runs, tmp_path, capsys):
    out = tmp_path / "mix.png"
    assert main(["style-mix", str(runs[0].path), "--rows", "1,2", "--cols", "3,4,5", "--crossover", "fine",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    w, h = Image.open(out).size
    assert w > h  # 4 columns (a corner and 3 seeds) by 3 rows


@pytest.mark.parametrize("argv, message", [
    (["--rows", "1,x", "--cols", "2"], "--rows takes whole-number seeds"),
    (["--rows", "1", "--cols", "2", "--psi", "2"], "--psi must be between 0 and 1"),
])
def test_style_mix_refuses_bad_input_in_one_line(runs, tmp_path, capsys, argv, message):
    assert main(["style-mix", str(runs[0].path), *argv, "--out", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_ppl_prints_both_spaces_and_refuses_other_models(runs, capsys):
    assert main(["ppl", str(runs[0].path), "--n", "20", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["space"] for r in results] == ["z", "w"] and all(r["ppl"] > 0 for r in results)
    assert main(["ppl", str(runs[1].path), "--space", "w", "--n", "20"]) == 2
    err = capsys.readouterr().err
    assert "needs a stylegan run" in err and len(err.strip().splitlines()) == 1


def test_truncation_curve_in_w_goes_through_the_pipeline_and_is_cached(runs):
    curve = lx.truncation_curve(runs[0], method="w", n=100, values=[0.5, 1.0])
    assert curve.method == "w" and curve.values == [0.5, 1.0] and all(v > 0 for v in curve.column("fid"))
    assert lx.load_truncation_curve(runs[0], method="w", n=100).rows == curve.rows


def test_latent_explorer_shows_the_stylegan_tabs_for_a_stylegan_run_only(runs, monkeypatch):
    """The Style explorer's features, now the Latent explorer's tabs for a stylegan run: style
    mixing, noise, the walk in Z and W (under Interpolate), truncation in W (on the Truncation
    curve tab) and path length."""
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(runs[0].path.parent))
    at = page("app_pages/latent_explorer.py", timeout=120)
    at.session_state["lx_run"] = runs[0].name
    at.session_state["lx_k"] = 1
    at.session_state["lx_tab"] = "Style mixing"
    run(at)
    assert at.radio(key="sx_cross").value == "coarse" and at.slider(key="sx_psi").value == 1.0
    assert any("row's w at every layer" in c.value for c in at.caption)
    at.session_state["lx_tab"] = "Noise"
    run(at)
    assert any("One w, new noise" in im.caption for el in at.image for im in el.proto.imgs)
    at.session_state["lx_tab"] = "Interpolate"
    run(at)
    captions = [im.caption for el in at.image for im in el.proto.imgs]
    assert "A straight line in Z, each point mapped to w" in captions and \
        "A straight line in W between the same two ends" in captions
    at.session_state["lx_tab"] = "Truncation curve"
    run(at)
    at.segmented_control(key="lx_curve_space").set_value("w (StyleGAN's ψ)")
    run(at)
    assert at.button(key="lx_curve_go").label in ("Measure the curve", "Measure again")
    assert any("ψ in W" in c.value for c in at.caption)
    at.session_state["lx_tab"] = "Path length"
    run(at)
    assert any("LPIPS is not available offline" in c.value for c in at.caption)
    at.select_slider(key="sx_ppl_n").set_value(200)
    at.button(key="sx_ppl_go").click()
    run(at)
    assert [m.label for m in at.metric] == ["PPL in Z", "PPL in W"]
    at = page("app_pages/latent_explorer.py")
    at.session_state["lx_run"] = runs[1].name  # cdcgan_compact: no StyleGAN tabs
    at.session_state["lx_k"] = 1
    run(at)
    assert "Style mixing" not in [t.label for t in at.tabs]


def test_train_page_shows_the_stylegan_parts_only_for_stylegan(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = run(page("app_pages/train.py"))
    keys = {w.key for lst in (at.slider, at.number_input, at.checkbox) for w in lst if w.key}
    assert not {"cfg_mapping_layers", "cfg_style_mixing", "cfg_progressive"} & keys
    assert any(c.value == "Not used by cdcgan_compact." for c in at.caption)
    at.selectbox(key="train_preset").set_value("stylegan")
    run(at)
    assert at.selectbox(key="cfg_model").value == "stylegan"
    assert at.slider(key="cfg_mapping_layers").value == 4 and at.checkbox(key="cfg_progressive").value is True
    assert at.slider(key="cfg_style_mixing").value == pytest.approx(0.9) and not at.button(key="start").disabled

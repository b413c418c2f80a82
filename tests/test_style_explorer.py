"""The Style explorer's front ends on a tiny real stylegan run: the `style-mix` and `ppl`
commands, the truncation curve in W through the one pipeline, and the page under AppTest."""
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


def test_page_shows_each_tab_and_explains_other_models(runs):
    at = page("pages/14_Style_explorer.py", timeout=120)
    at.session_state["sx_run"] = runs[0].name
    run(at)
    assert len(at.image) == 1 and at.radio(key="sx_cross").value == "coarse"
    for tab, images in (("Noise", 2), ("Z vs W", 2)):
        at.session_state["sx_tab"] = tab
        run(at)
        assert len(at.image) == images, tab
    at.session_state["sx_tab"] = "Truncation in W"
    run(at)
    assert at.button(key="sx_curve_go").label in ("Measure the curve", "Measure again")
    at.session_state["sx_tab"] = "Path length"
    run(at)
    assert any("LPIPS is not available offline" in c.value for c in at.caption)
    at.select_slider(key="sx_ppl_n").set_value(200)
    at.button(key="sx_ppl_go").click()
    run(at)
    assert [m.label for m in at.metric] == ["PPL in Z", "PPL in W"]
    at = page("pages/14_Style_explorer.py")
    at.session_state["sx_run"] = runs[1].name
    run(at)
    assert any("Style explorer shows the parts of a StyleGAN" in i.value for i in at.info)


def test_train_page_shows_the_stylegan_parts_only_for_stylegan(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = run(page("pages/1_Train.py"))
    keys = {w.key for lst in (at.slider, at.number_input, at.checkbox) for w in lst if w.key}
    assert not {"cfg_mapping_layers", "cfg_style_mixing", "cfg_progressive"} & keys
    assert any(c.value == "Not used by cdcgan_compact." for c in at.caption)
    at.selectbox(key="train_preset").set_value("stylegan")
    run(at)
    assert at.selectbox(key="cfg_model").value == "stylegan"
    assert at.slider(key="cfg_mapping_layers").value == 4 and at.checkbox(key="cfg_progressive").value is True
    assert at.slider(key="cfg_style_mixing").value == pytest.approx(0.9) and not at.button(key="start").disabled

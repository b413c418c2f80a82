"""The Translate page and the other pages with translation runs (AppTest), plus export and
import of a translation run."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ganlib.core.images import grid_image, png_bytes  # noqa: E402
from ganlib.engine.training import train  # noqa: E402
from ganlib.explore.sampling import get_generator  # noqa: E402
from ganlib.explore.translation import held_out_translation, inputs_from_bytes  # noqa: E402
from ganlib.interchange.export import export_zip  # noqa: E402
from ganlib.interchange.importing import import_file  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from tests.helpers import page, run

TINY = dict(max_images=32, image_size=16, batch_size=16, epochs=1, device="cpu", eval_every=0,
            lr_g=2e-4, lr_d=2e-4, cpu_threads=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    p2p = train(TrainConfig(model="pix2pix", dataset="edges2digits", **TINY), runs_dir=root).run
    cyc = train(TrainConfig(model="cyclegan", dataset="digits2styled", pool_size=4, **TINY), runs_dir=root).run
    return SimpleNamespace(root=root, p2p=p2p.name, cyc=cyc.name)


@pytest.fixture
def runs(trained, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(trained.root))
    return trained


def test_translate_page_without_translation_runs_points_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = run(page("pages/12_Translate.py"))
    assert any("pix2pix" in i.value and "Train" in i.value for i in at.info) and not at.image


def test_translate_page_shows_held_out_translations_both_ways_for_cyclegan(runs):
    at = run(page("pages/12_Translate.py"))
    at.selectbox(key="tr_run").set_value(runs.cyc)
    run(at)
    assert at.radio(key="tr_direction").options == ["AtoB", "BtoA"]
    assert at.image and any("input | output | target | back" in c.value for c in at.caption)
    at.radio(key="tr_direction").set_value("BtoA")
    run(at)
    assert at.image and not at.error
    assert at.get("download_button")


def test_translate_page_offers_pix2pix_one_direction(runs):
    at = run(page("pages/12_Translate.py"))
    at.selectbox(key="tr_run").set_value(runs.p2p)
    run(at)
    assert at.radio(key="tr_direction").options == ["AtoB"]
    assert at.image and not at.error


def test_generate_sends_a_translation_run_to_translate(runs):
    at = run(page("pages/3_Generate.py"))
    at.selectbox(key="gen_run").set_value(runs.p2p)
    run(at)
    assert any("Translate" in i.value for i in at.info) and not at.image


def test_samples_and_timelapse_show_the_translation_grids(runs):
    at = run(page("pages/2_Samples.py"))
    at.selectbox(key="samples_run").set_value(runs.cyc)
    run(at)
    assert at.image and not at.error
    at = run(page("pages/10_Timelapse.py"))
    assert not at.error


def test_train_form_shows_the_translation_fields_for_pix2pix(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = run(page("pages/1_Train.py"))
    at.selectbox(key="cfg_model").set_value("pix2pix")
    run(at)
    keys = {w.key for lst in (at.selectbox, at.slider, at.select_slider, at.number_input) for w in lst}
    assert {"cfg_lambda_l1", "cfg_direction"} <= keys
    assert not {"cfg_latent_dim", "cfg_loss", "cfg_lambda_cycle", "cfg_n_critic"} & keys


def test_export_and_import_keep_a_translation_run_usable(runs, tmp_path):
    data = export_zip(runs.root / runs.cyc)
    imported = import_file(data, "cyc.zip", runs_root=tmp_path)
    handle = get_generator(imported)
    out = held_out_translation(handle, "BtoA", count=2)
    assert out.panels["output"].shape == (2, 1, 16, 16) and imported.samples()


def test_uploaded_images_become_the_runs_input():
    blob = png_bytes(grid_image(torch.zeros(1, 3, 40, 30), nrow=1, padding=0))
    x = inputs_from_bytes([blob], channels=1, size=16)
    assert x.shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="upload 2 is not a readable image"):
        inputs_from_bytes([blob, b"junk"], channels=1, size=16)

"""Generate: samples from a checkpoint, seeded and labelled; an image-to-image run translates."""
from __future__ import annotations

import re

from tests.helpers import (
    page,
    run,
    texts,
)


def test_generate_unconditional_is_reproducible_and_downloadable(runs):
    at = run(page("app_pages/generate.py"))
    at.selectbox(key="gen_run").set_value(runs.mlp.name)
    run(at)
    assert not at.radio  # no label choice for an unconditional model
    first = at.image[0].value
    at.slider(key="gen_n").set_value(16)
    run(at)
    assert "16 samples" in at.image[0].proto.imgs[0].caption
    assert {d.label for d in at.download_button} == {"Download PNG", "Download NPZ"}
    sixteen = at.image[0].value
    at.number_input(key="gen_seed").set_value(5)
    run(at)
    assert at.image[0].value != sixteen
    at.number_input(key="gen_seed").set_value(0)
    run(at)
    assert at.image[0].value == sixteen and first != sixteen  # same seed, same images
    at.checkbox(key="gen_random").check()
    run(at)
    assert re.search(r"Seed: `\d+`", texts(at.markdown))


def test_generate_conditional_one_label_or_one_per_row(runs):
    at = run(page("app_pages/generate.py"))
    at.selectbox(key="gen_run").set_value(runs.cgan.name)
    run(at)
    assert at.radio(key="gen_label_mode").value == "One label for all"
    at.selectbox(key="gen_label").set_value(3)
    run(at)
    assert len(at.image) == 1
    at.radio(key="gen_label_mode").set_value("One label per row")
    run(at)
    at.multiselect(key="gen_row_labels").set_value([2, 5])
    at.slider(key="gen_per_row").set_value(4)
    run(at)
    assert "8 samples" in at.image[0].proto.imgs[0].caption
    at.multiselect(key="gen_row_labels").set_value([])
    run(at)
    assert at.warning and not at.image


def test_generate_run_without_checkpoint_shows_error(runs):
    at = run(page("app_pages/generate.py"))
    at.selectbox(key="gen_run").set_value(runs.fresh)
    run(at)
    assert any("no checkpoint" in e.value for e in at.error)
    assert not at.image



def test_generate_translates_with_a_cyclegan_both_ways(tr_runs):
    """The Translate page's features, now Generate's for an image-to-image run."""
    at = page("app_pages/generate.py")
    at.session_state["gen_run"] = tr_runs.cyc.name
    run(at)
    assert at.radio(key="tr_direction").options == ["AtoB", "BtoA"]
    assert at.image and any("input | output | target | back" in c.value for c in at.caption)
    at.radio(key="tr_direction").set_value("BtoA")
    run(at)
    assert at.image and not at.error and at.download_button(key="tr_png").label == "Download PNG"
    at.radio(key="tr_source").set_value("Upload images")
    run(at)
    assert any("Upload images of domain B" in c.value for c in at.caption) and not at.image


def test_generate_translates_with_pix2pix_one_way(tr_runs):
    at = page("app_pages/generate.py")
    at.session_state["gen_run"] = tr_runs.p2p.name
    run(at)
    assert at.radio(key="tr_direction").options == ["AtoB"]
    assert at.image and not at.error and not at.radio(key="tr_source").value == "Upload images"

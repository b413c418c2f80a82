"""Which extractor judges which data (`metrics.extractor_choice`): the one made for a built-in
set, a folder's probe (digits recognised, icons not), Inception for the rest when its weights
are there, else none with one line naming the missing weights; and the evaluation without an
extractor (only the metrics that need none, the line in the row's details)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.data import load_dataset
from ganlib.metrics import FEATURE_EXTRACTORS
from ganlib.metrics import extractor_choice as ec
from ganlib.metrics.extractor_choice import choose_extractor, choose_for_config, fits_dataset
from ganlib.store.config import TrainConfig

ICONS = "/usr/share/icons/Adwaita/48x48/legacy"


@pytest.fixture
def no_inception(monkeypatch):
    """The FID Inception's weights cannot be had (offline, nothing on disk)."""
    monkeypatch.setattr(ec, "_unavailable", lambda name, weights: (
        "the FID Inception weights are missing: put pt_inception.pth in HUB" if name == "inception" else None))


def write_pngs(folder, images: torch.Tensor) -> str:
    folder.mkdir()
    for i, x in enumerate(images):
        a = ((x[0].numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
        Image.fromarray(a, "L").save(folder / f"{i:04d}.png")
    return str(folder)


def test_every_extractor_declares_what_it_fits():
    for name in FEATURE_EXTRACTORS:
        spec = FEATURE_EXTRACTORS.get(name)
        assert spec.fits and (spec.general or spec.datasets)
    assert fits_dataset("digits", "mnist5k") and fits_dataset("emoji", "emoji_heldout")
    assert fits_dataset("digits", "emoji") is False and fits_dataset("emoji", "mnist5k") is False
    assert fits_dataset("digits", "folder") is None  # unknown content: its probe decides
    assert fits_dataset("inception", "cifar10") is True


def test_auto_takes_the_extractor_made_for_a_builtin_set(no_inception):
    for dataset, name in [("mnist5k", "digits"), ("mnist5k_heldout", "digits"), ("emoji", "emoji"),
                          ("emoji_train", "emoji")]:
        choice = choose_extractor("auto", dataset)
        assert choice.name == name and choice.warning == "", (dataset, choice)


def test_auto_without_inception_weights_gives_no_feature_metric_and_says_why(no_inception):
    choice = choose_extractor("auto", "cifar10")
    assert choice.name is None
    assert choice.warning.startswith("No feature metric") and "pt_inception.pth" in choice.warning


def test_auto_with_inception_weights_takes_it_for_other_data(monkeypatch):
    monkeypatch.setattr(ec, "_unavailable", lambda name, weights: None)
    assert choose_extractor("auto", "cifar10").name == "inception"


def test_digits_asked_for_on_emoji_says_its_numbers_mean_little():
    choice = choose_extractor("digits", "emoji")
    assert choice.name == "digits" and "made for" in choice.warning and "mean little" in choice.warning


def test_inception_asked_for_without_weights_uses_the_datas_own(no_inception):
    choice = choose_extractor("inception", "mnist5k")
    assert choice.name == "digits" and "Using digits, made for mnist5k" in choice.warning


def test_a_folder_of_digits_is_judged_by_the_digit_classifier(tmp_path, no_inception):
    held = load_dataset("mnist5k_heldout", channels=1, image_size=28)
    path = write_pngs(tmp_path / "digits", held.first(300))
    cfg = TrainConfig(dataset="folder", data_path=path, channels=1, image_size=28)
    choice = choose_for_config("auto", cfg)
    assert choice.name == "digits" and "the images fit it" in choice.note


def test_a_folder_of_icons_is_not_digits(tmp_path, no_inception):
    """Non-digit greyscale (Adwaita's icons in L) and colour icons: no shipped extractor fits them,
    and without Inception there is no feature metric, with the line that says so."""
    for channels in (1, 3):
        cfg = TrainConfig(dataset="folder", data_path=ICONS, channels=channels, image_size=32)
        choice = choose_for_config("auto", cfg)
        assert choice.name is None, (channels, choice)
        assert "fit no shipped extractor" in choice.note and "pt_inception.pth" in choice.note


def test_a_folder_that_cannot_be_read_gives_no_extractor_and_why(tmp_path):
    cfg = TrainConfig(dataset="folder", data_path=str(tmp_path / "nowhere"), channels=1, image_size=28)
    choice = choose_for_config("auto", cfg)
    assert choice.name is None and "cannot be read" in choice.note


def test_evaluation_without_an_extractor_has_only_pixel_metrics(tmp_path, no_inception, monkeypatch):
    """The no-extractor path end to end: a tiny run on a folder of icons evaluates, writes the
    line in evals.jsonl, leaves FID empty and still judges the run."""
    from ganlib.engine.training import train
    from ganlib.store.run_health import run_verdict
    cfg = TrainConfig(dataset="folder", data_path=ICONS, channels=3, image_size=32, epochs=1, eval_every=1,
                      eval_samples=128, model="dcgan", batch_size=64, max_images=128)
    res = train(cfg, runs_dir=tmp_path)
    assert res.state == "completed", res.error
    rows, records = res.run.metrics(), res.run.evals()
    last = rows[-1]
    assert math.isnan(float(last.get("fid", "nan") or "nan")) and 0 < float(last["pixel_spread"])
    assert last["extractor"] == "none"
    note = records[-1].get("extractor_note", "")
    assert note.startswith("No feature metric") and "pt_inception.pth" in note
    v = run_verdict(res.run)
    assert v.kind != "learning" and v.level != "success"


def test_the_shipped_emoji_extractor_is_what_its_json_says():
    """Trained on emoji_train only by train_emoji_classifier.py; its held-out accuracy (9 groups)
    and size as recorded beside it; FID near 0 for held-out emoji, far from it for digits."""
    import json
    from pathlib import Path

    from ganlib.metrics.extractor_choice import get_extractor
    from ganlib.metrics.frechet import fid_from_features
    info = json.loads((Path(ec.__file__).parent / "weights" / "emoji_cnn.json").read_text())
    assert info["weights_bytes"] < 400_000 and info["split"]["train"] == "emoji_train"
    ext = get_extractor("emoji")
    held = load_dataset("emoji_heldout", channels=3, image_size=32)
    feats, logits = ext.features_and_logits(held.first(len(held)))
    acc = (logits.argmax(1) == held.labels).float().mean().item()
    assert acc == pytest.approx(info["test_accuracy"], abs=0.005) and acc > 3 * info["chance_accuracy"]
    train = load_dataset("emoji_train", channels=3, image_size=32)
    tf = ext.features(train.first(len(train)))
    digits = load_dataset("mnist5k", channels=3, image_size=32)
    assert fid_from_features(tf, feats) < 5 < 100 < fid_from_features(tf, ext.features(digits.first(500)))

"""Issue 21, items 2 and 6 on the pages: the Train form's data panel (facts, the as-trained
preview, the suggestion and Apply) before Start, a single-class run without label pickers, and
the emoji set training offline."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ganlib.engine.training import train  # noqa: E402
from ganlib.models.handle import grid_latents  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from tests.helpers import page, run  # noqa: E402


def icons(root: Path, classes=("arrows", "faces"), n: int = 6) -> Path:
    """Transparent 64 px colour icons, one subfolder per class."""
    rng = np.random.default_rng(0)
    for cls in classes:
        (root / cls).mkdir(parents=True)
        for i in range(n):
            a = np.zeros((64, 64, 4), np.uint8)
            a[16:48, 16:48] = [*rng.integers(0, 255, 3), 255]
            Image.fromarray(a, "RGBA").save(root / cls / f"{i}.png")
    return root


def markdown(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def test_the_data_panel_shows_the_folder_before_start_and_applies_the_suggestion(tmp_path):
    folder = icons(tmp_path / "icons")
    (folder / "faces" / "notes.txt").write_text("not an image")
    at = run(page("app_pages/train.py"))
    at.selectbox(key="cfg_dataset").set_value("folder")
    run(at)
    assert any("Type the path of a folder" in i.value for i in at.info)  # a path first
    at.text_input(key="cfg_data_path").input(str(folder))
    at.number_input(key="cfg_batch_size").set_value(8)
    run(at)
    text = markdown(at)
    assert "The data, as it will be trained" in text and "12 images in" in text
    assert "2 classes: arrows 6, faces 6" in text and "RGBA (alpha) 12" in text and "12 with transparency" in text
    assert any("1 files skipped" in e.label for e in at.expander)
    # before Start, the metrics line: which extractor fits these icons, or why there is no FID
    lines = [w.value for w in at.warning] + [c.value for c in at.caption]
    assert any(t.startswith("No feature metric") or "**inception** extractor" in t for t in lines), lines
    assert any("image size 64** and **3 channels" in w.value for w in at.warning)  # the form says 28 and 1
    grid = [im for im in at.image if "as trained" in (im.proto.imgs[0].caption or "")]
    caption = grid[0].proto.imgs[0].caption
    assert "28x28, gray" in caption and "one row per class" in caption
    at.button(key="cfg_apply_shape").click()
    run(at)
    assert at.number_input(key="cfg_image_size").value == 64 and at.selectbox(key="cfg_channels").value == 3
    assert not any("image size 64**" in w.value for w in at.warning)
    grid = [im for im in at.image if "as trained" in (im.proto.imgs[0].caption or "")]
    assert "64x64, colour, transparency on white, crop" in grid[0].proto.imgs[0].caption
    assert not at.error and not at.button(key="start").disabled


def test_a_missing_path_is_said_in_the_panel_and_start_stays_off(tmp_path):
    at = run(page("app_pages/train.py"))
    at.selectbox(key="cfg_dataset").set_value("folder")
    run(at)
    at.text_input(key="cfg_data_path").input(str(tmp_path / "nowhere"))
    run(at)
    assert any("does not exist" in e.value for e in at.error) and at.button(key="start").disabled


def test_a_single_class_run_draws_a_square_grid_and_offers_no_label(tmp_path, monkeypatch):
    z, labels, cols = grid_latents(0, 8, 1, conditional=True)
    assert cols == 8 and len(z) == 64 and labels.unique().tolist() == [0]
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path / "runs"))
    folder = icons(tmp_path / "one", classes=("cats",), n=8)
    cfg = TrainConfig(dataset="folder", data_path=str(folder), image_size=16, channels=3, model="cgan",
                      loss="nonsaturating", batch_size=8, epochs=1, eval_every=0, device="cpu")
    train(cfg, runs_dir=tmp_path / "runs")
    at = run(page("app_pages/generate.py"))
    assert not at.radio and "gen_label" not in [s.key for s in at.selectbox]
    assert any("one class (cats): no label to choose" in c.value for c in at.caption) and len(at.image) == 1
    at = run(page("app_pages/latent_explorer.py"))
    keys = [s.key for s in at.selectbox]
    assert "lx_label" not in keys and "walk_label_a" not in keys and len(at.image) >= 1


@pytest.mark.slow  # packs the emoji (a few seconds the first time) and trains an epoch
def test_the_emoji_set_trains_offline_in_colour(tmp_path):
    cfg = TrainConfig(dataset="emoji_train", image_size=32, channels=3, model="mlp_gan", loss="nonsaturating",
                      lr_g=2e-4, lr_d=2e-4, d_norm="batch", max_images=512, batch_size=64, epochs=1, eval_every=0,
                      device="cpu")
    res = train(cfg, runs_dir=tmp_path)
    assert res.state == "completed" and res.rows[0]["d_loss"] > 0
    grid = torch.from_numpy(np.array(Image.open(res.run.sample_path(1))))
    assert grid.shape[-1] == 3  # a colour grid

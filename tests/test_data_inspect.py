"""Issue 21, items 2 and 6: inspect and preview a folder before a run exists (library and CLI),
a folder run on the CLI takes its size and channels from the data, and the emoji dataset."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.cli import main
from ganlib.data import DATASETS, HELDOUT_SPLITS, data_facts, load_raw
from ganlib.data import emoji as emoji_mod
from ganlib.data.image_files import ReadOptions, read_image
from ganlib.data.inspection import describe, inspect, preview, suggest_size
from ganlib.data.pack import packed
from ganlib.data.sources import open_source
from ganlib.store.data_shape import suggested_shape


@pytest.fixture
def icons(tmp_path):
    """Transparent colour icons of two sizes in two classes, one 16-bit gray image, a duplicate and junk."""
    root = tmp_path / "icons"
    rng = np.random.default_rng(0)
    for cls, n in (("arrows", 4), ("faces", 3)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            side = 48 if i % 2 else 96
            a = np.zeros((side, side, 4), np.uint8)
            a[side // 4:-side // 4, side // 4:-side // 4] = [*rng.integers(0, 255, 3), 255]
            Image.fromarray(a, "RGBA").save(root / cls / f"{i}.png")
    Image.fromarray(np.full((64, 64), 40000, np.uint16)).save(root / "faces" / "gray16.png")
    (root / "faces" / "copy.png").write_bytes((root / "arrows" / "0.png").read_bytes())
    (root / "arrows" / "readme.txt").write_text("hello")
    return root


def test_inspect_tells_counts_classes_sizes_modes_skips_duplicates_and_a_suggestion(icons):
    r = inspect(icons)
    assert (r.n_files, r.n_images) == (10, 9) and r.classes == {"arrows": 4, "faces": 5}
    assert r.sizes["min"] == [48, 48] and r.sizes["max"] == [96, 96] and r.n_sizes == 3
    assert r.modes == {"RGBA": 8, "I;16": 1} and r.alpha_images == 8 and r.has_alpha and r.sixteen_bit == 1
    assert len(r.skipped) == 1 and r.skipped[0].startswith("arrows/readme.txt: cannot identify image file")
    assert r.duplicates == [["arrows/0.png", "faces/copy.png"]]
    assert (r.suggested_image_size, r.suggested_channels) == (32, 3)  # 48 px icons are not enlarged past 32
    text = "\n".join(r.lines())
    assert "9 images" in text and "arrows 4, faces 5" in text and "8 with transparency" in text
    assert suggest_size(np.array([[72, 72]]))[0] == 64 and suggest_size(np.array([[600, 400]] * 20))[0] == 256


def test_the_preview_is_exactly_what_training_reads(icons):
    read = ReadOptions(32, 3)
    images, names, cols = preview(icons, read, n=8)
    assert cols == 4 and images.shape[1:] == (3, 32, 32)  # two classes: a row of four each
    assert names.count("") == 1  # arrows/readme.txt is no image: its row ends in a blank cell
    for a, name in zip(images, names):
        assert not name or np.array_equal(a, read_image(icons / name, read))
    pack = packed(open_source(icons), read)
    first = names.index("arrows/0.png")
    assert np.array_equal(images[first], pack.images[0].numpy())


def test_a_single_class_folder_previews_as_a_square_grid_and_has_no_labels(tmp_path):
    root = tmp_path / "one"
    root.mkdir()
    for i in range(20):
        Image.new("RGB", (16, 16), (i * 10, 0, 0)).save(root / f"{i:02d}.png")
    images, names, cols = preview(root, ReadOptions(16, 3), n=16)
    assert cols == 4 and len(images) == 16
    assert data_facts("folder", str(root)).has_labels is False and inspect(root).classes == {}


def test_the_cli_inspects_previews_and_packs(icons, tmp_path, capsys):
    assert main(["data", "inspect", str(icons), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 9 and report["classes"] == {"arrows": 4, "faces": 5} and report["has_alpha"] is True
    assert (report["suggested_image_size"], report["suggested_channels"]) == (32, 3)
    grid = tmp_path / "grid.png"
    assert main(["data", "preview", str(icons), "--out", str(grid), "--image-size", "16", "--channels", "3",
                 "--background", "black", "--resize-mode", "pad"]) == 0
    with Image.open(grid) as im:
        assert im.mode == "RGB" and im.getpixel((1, 1)) == (128, 128, 128)  # mid-gray between the tiles
        assert im.getpixel((12, 12)) == (0, 0, 0)  # the first tile's transparent corner, on black
    out = tmp_path / "icons.zip"
    assert main(["data", "pack", str(icons), "--out", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "reading at image_size 32, channels 3 (suggested by the data" in captured.err
    assert "skipped 1 files" in captured.err and str(out) in captured.out
    assert len(load_raw("zip", str(out), 32, channels=3).images) == 9


def test_a_cli_folder_run_takes_size_and_channels_from_the_data(icons, tmp_path, capsys):
    args = ["train", "--runs-dir", str(tmp_path / "runs"), "--dataset", "folder", "--data-path", str(icons),
            "--model", "mlp_gan", "--loss", "nonsaturating", "--epochs", "1", "--batch-size", "4",
            "--eval-every", "0", "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "data: training at image_size 32, channels 3 (both from the data" in err
    cfg = json.loads(next((tmp_path / "runs").glob("*/config.json")).read_text())
    assert (cfg["image_size"], cfg["channels"]) == (32, 3)
    assert main([*args, "--image-size", "16"]) == 0
    assert "image_size 16, channels 3 (channels from the data" in capsys.readouterr().err
    assert suggested_shape({"dataset": "folder", "data_path": str(icons), "model": "dcgan"})[0] == 32


def test_small_colour_icons_keep_their_channels_when_the_model_takes_no_size_that_small(tmp_path):
    """16 px icons and a model whose smallest size is 28: enlarged to 28, and still colour (it
    once gave no suggestion at all and the CLI trained them as 28 px greyscale)."""
    root = tmp_path / "tiny"
    root.mkdir()
    for i in range(3):
        Image.fromarray(np.full((16, 16, 4), [200, 30 * i, 10, 255], np.uint8), "RGBA").save(root / f"{i}.png")
    size, channels, why = suggested_shape({"dataset": "folder", "data_path": str(root), "model": "dcgan"})
    assert (size, channels) == (28, 3) and "enlarged" in why


def test_the_emoji_set_is_colour_classed_split_and_attributed():
    raw = load_raw("emoji", "", 32, channels=3)
    n = len(raw.images)
    assert 1800 < n < 2000 and raw.images.shape[1:] == (3, 32, 32) and raw.class_names == emoji_mod.GROUPS
    assert "CC-BY 4.0" in raw.note and "Twemoji" in DATASETS.get("emoji").description  # as the form's help shows
    counts = torch.bincount(raw.labels, minlength=9)
    assert (counts > 50).all()  # every group is there
    corner = raw.images[:, :, 0, 0].float().mean()
    assert corner > 240  # transparent corners read white, not black
    assert raw.images.float().std(1).mean() > 5  # colour: the channels differ
    train, held = load_raw("emoji_train", "", 32, channels=3), load_raw("emoji_heldout", "", 32, channels=3)
    assert len(train.images) + len(held.images) == n and HELDOUT_SPLITS.get("emoji_train") == "emoji_heldout"
    seen = {bytes(x.numpy()) for x in train.images}
    assert not any(bytes(x.numpy()) in seen for x in held.images[:100])  # held-out emoji are new
    assert abs(len(held.images) / n - 0.2) < 0.02
    assert emoji_mod.group_of("1f44d-1f3fd") is None and emoji_mod.group_of("1f1eb-1f1f7") == "Flags"  # skin tone, FR
    assert emoji_mod.group_of("1f600") == "Smileys & Emotion" and emoji_mod.group_of("1f1e6") is None
    assert describe("emoji").alpha_images > 1800


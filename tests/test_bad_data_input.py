"""Issue 21, item 7: bad input is a one-line message naming the file or the reason, with no
traceback, and nothing is created (no run folder, no pack); a bad file among good ones is
skipped and named, and the rest trains."""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganlib.cli import main
from tests.helpers import png_claiming


def lying_zip(path: Path, declared: int) -> Path:
    """A zip whose one member inflates to 2 MiB of zeros but declares `declared` bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.png", b"\0" * (2 << 20))
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 22, declared)  # the local header's size
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # and the central directory's
    path.write_bytes(bytes(data))
    return path


def make(kind: str, tmp: Path) -> tuple[Path, str]:
    """The bad input of each kind, and words its one-line message must hold."""
    root = tmp / kind
    if kind == "empty":
        root.mkdir()
        return root, "it is empty"
    if kind == "non-images":
        root.mkdir()
        (root / "a.txt").write_text("hello")
        (root / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
        return root, "no readable images"
    if kind == "a file":
        root.write_text("x")
        return root, "is a file, not a folder or a .zip"
    if kind == "missing":
        return root, "does not exist"
    if kind == "1x1":
        root.mkdir()
        Image.new("RGB", (1, 1)).save(root / "dot.png")
        return root, "dot.png: 1x1 is too small"
    if kind == "bomb":
        root.mkdir()
        (root / "huge.png").write_bytes(png_claiming(20_000, 20_000))
        return root, "huge.png: Image size (400000000 pixels) exceeds limit"
    if kind == "zip bomb":
        return lying_zip(tmp / "bomb.zip", 100), "bomb.png' is corrupt or unreadable"  # never inflated past 100 B
    if kind == "zip declared huge":
        return lying_zip(tmp / "huge.zip", 3 << 30), "bomb.png' is too large (3.0 GiB unpacked"
    raise ValueError(kind)


KINDS = ["empty", "non-images", "a file", "missing", "1x1", "bomb", "zip bomb", "zip declared huge"]


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_data_is_one_line_and_creates_nothing(kind, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANLIB_CACHE_DIR", str(cache))
    path, words = make(kind, tmp_path)
    runs = tmp_path / "runs"
    dataset = "zip" if kind.startswith("zip") else "folder"
    commands = [["data", "inspect", str(path)], ["data", "preview", str(path), "--out", str(tmp_path / "g.png")],
                ["data", "pack", str(path), "--out", str(tmp_path / "o.zip"), "--no-progress"],
                ["train", "--runs-dir", str(runs), "--dataset", dataset, "--data-path", str(path), "--epochs", "1",
                 "--no-progress"]]
    for argv in commands:
        assert main(argv) == 2, argv
        msg = one_error(capsys)
        assert words in msg, (argv[:2], msg)
    assert not (tmp_path / "g.png").exists() and not (tmp_path / "o.zip").exists()
    assert not runs.exists() or not any(runs.iterdir())
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))  # no pack, no temp file


def test_bad_files_among_good_ones_are_skipped_by_name_and_the_rest_trains(tmp_path, capsys):
    root = tmp_path / "mixed"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(16, 16), (40, 24), (24, 64), (300, 200), (33, 33), (64, 64), (20, 90), (48, 48)]):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(root / f"{i}.png")
    (root / "broken.png").write_bytes((root / "0.png").read_bytes()[:60])  # truncated
    Image.new("RGB", (1, 1)).save(root / "dot.png")
    (root / "huge.png").write_bytes(png_claiming(20_000, 20_000))
    assert main(["data", "inspect", str(root)]) == 0
    out = capsys.readouterr().out
    assert "8 images" in out and "skipped 3 files" in out and "dot.png: 1x1 is too small" in out
    assert "sizes: 8 distinct; smallest 16x16" in out
    assert main(["train", "--runs-dir", str(tmp_path / "runs"), "--dataset", "folder", "--data-path", str(root),
                 "--model", "mlp_gan", "--loss", "nonsaturating", "--batch-size", "4", "--epochs", "1",
                 "--eval-every", "0", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "data: 8 images; 3 unreadable or non-image files skipped (first: broken.png: " in err

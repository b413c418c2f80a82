"""`python -m ganlib fid` (pytorch-fid's command line) and `python -m ganlib metrics`, driven
in-process through `main([...])`.

The FID Inception weights are not available offline, so FID values are checked with the shipped
digit classifier (`--features digits`) against the library computed directly; the Inception path
is checked for its offline error. Runs and the real-statistics cache go to temporary folders.
"""
from __future__ import annotations

import contextlib
import io
import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import ganlib.store.run_folder
from ganlib.cli import main
from ganlib.data.image_files import read_image
from ganlib.engine import training
from ganlib.metrics.extractor_choice import get_extractor
from ganlib.metrics.frechet import frechet_distance, mean_cov
from ganlib.store.config import TrainConfig

N_IMAGES = 40


@pytest.fixture(autouse=True)
def _no_default_runs_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(ganlib.store.run_folder, "DEFAULT_RUNS_DIR", tmp_path_factory.mktemp("default_runs"))


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One intra-op thread for this module: the matrices here are small (128-d), and on a CPU that
    other jobs share, multi-threaded LAPACK calls can stall for seconds (an eigvalsh of 128 x 128
    was measured at 1.5 s with 2 threads against 3 ms with 1). Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_main(argv: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def fid_of(stdout: str) -> float:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FID: "), stdout  # stdout holds only the result
    return float(lines[0][len("FID: "):])


def make_pngs(path: Path, n: int, seed: int, power: float) -> Path:
    """n 28x28 grayscale PNGs of noise; `power` skews the pixel distribution (distinct folders)."""
    path.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        arr = (rng.random((28, 28)) ** power * 255).astype(np.uint8)
        Image.fromarray(arr).save(path / f"{i:03d}.png")
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fid")
    return make_pngs(root / "a", N_IMAGES, 0, 1.0), make_pngs(root / "b", N_IMAGES, 1, 3.0)


def digit_features(files: list[Path]) -> torch.Tensor:
    """The library directly: each image read as the CLI reads it, embedded on its own."""
    ext = get_extractor("digits", "cpu")
    arrays = [read_image(f) for f in files]
    return torch.cat([ext.features(torch.from_numpy(np.array(a))[None].float() / 127.5 - 1)
                      for a in arrays if a is not None])


def direct_fid(f1: torch.Tensor, f2: torch.Tensor) -> float:
    m1, s1 = mean_cov(f1)
    m2, s2 = mean_cov(f2)
    return frechet_distance(m1, s1, m2, s2)


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ---- fid -------------------------------------------------------------------------------------------
def test_fid_of_two_folders_equals_the_library(folders):
    a, b = folders
    rc, out, err = run_main(["fid", a, b, "--features", "digits", "--device", "cpu"])
    assert rc == 0, err
    expected = direct_fid(digit_features(sorted(a.iterdir())), digit_features(sorted(b.iterdir())))
    assert expected > 1
    assert fid_of(out) == pytest.approx(expected, rel=1e-6)
    # N = 40 < 128 feature dims: both folders are warned about
    assert err.count("warning: ") == 2 and "N=40" in err and "128" in err


def test_fid_of_a_folder_with_itself_is_zero(folders):
    a, _ = folders
    rc, out, err = run_main(["fid", a, a, "--features", "digits", "--device", "cpu", "--num-workers", "0"])
    assert rc == 0, err
    assert 0 <= fid_of(out) < 1e-4  # rounding level: FID of a against b is in the thousands


def test_save_stats_then_fid_from_the_file(folders, tmp_path):
    a, b = folders
    stats = tmp_path / "sub" / "a_stats.npz"
    rc, out, err = run_main(["fid", "--save-stats", a, stats, "--features", "digits", "--device", "cpu"])
    assert rc == 0, err
    assert out.strip() == str(stats)
    with np.load(stats) as z:
        assert z["mu"].shape == (128,) and z["sigma"].shape == (128, 128) and int(z["n"]) == N_IMAGES
    rc, out_npz, err = run_main(["fid", stats, b, "--features", "digits", "--device", "cpu"])
    assert rc == 0, err
    rc, out_dirs, err = run_main(["fid", a, b, "--features", "digits", "--device", "cpu"])
    assert rc == 0, err
    assert fid_of(out_npz) == pytest.approx(fid_of(out_dirs), rel=1e-9)
    # like pytorch-fid, an existing file is not overwritten
    before = stats.read_bytes()
    rc, _, err = run_main(["fid", "--save-stats", a, stats, "--features", "digits", "--device", "cpu"])
    assert rc == 2 and "already exists" in one_error_line(err)
    assert stats.read_bytes() == before


def test_hand_made_pytorch_fid_npz(folders, tmp_path, monkeypatch):
    """pytorch-fid's file: only mu and sigma (no n), float32 mu as np.mean of float32 gives."""
    a, b = folders
    fa = digit_features(sorted(a.iterdir())).numpy()
    fb = digit_features(sorted(b.iterdir())).numpy()
    np.savez(tmp_path / "a.npz", mu=np.mean(fa, axis=0), sigma=np.cov(fa, rowvar=False))
    np.savez_compressed(tmp_path / "b.npz", mu=np.mean(fb, axis=0), sigma=np.cov(fb, rowvar=False))
    expected = direct_fid(torch.from_numpy(fa), torch.from_numpy(fb))

    rc, out, err = run_main(["fid", tmp_path / "a.npz", b, "--features", "digits", "--device", "cpu"])
    assert rc == 0, err
    assert fid_of(out) == pytest.approx(expected, rel=1e-5)

    # Two statistics files need no extractor: the default (inception, no weights here) is not loaded.
    monkeypatch.setattr(socket, "create_connection", _no_network)
    rc, out, err = run_main(["fid", tmp_path / "a.npz", tmp_path / "b.npz"])
    assert rc == 0, err
    assert fid_of(out) == pytest.approx(expected, rel=1e-5)
    assert "warning" not in err  # no N is recorded in pytorch-fid's files: nothing to warn about


def test_folder_of_mixed_sizes_and_modes(image_folder, folders):
    """conftest's folder: class subfolders, sizes 20-29 x 30, modes RGB/L/RGBA/P, and 2 junk files."""
    _, b = folders
    rc, out, err = run_main(["fid", image_folder, b, "--features", "digits", "--device", "cpu",
                             "--batch-size", "4"])
    assert rc == 0, err
    assert "2 of 11 files skipped as not readable images" in err
    files = sorted(p for p in image_folder.rglob("*") if p.is_file())
    expected = direct_fid(digit_features(files), digit_features(sorted(b.iterdir())))
    assert fid_of(out) == pytest.approx(expected, rel=1e-6)


def _no_network(*args, **kwargs):
    raise OSError("network disabled in this test")


def test_inception_without_weights_offline(folders, tmp_path, monkeypatch, capsys):
    """No weights anywhere and no network: exit 2 at once, one line saying how to get them."""
    a, b = folders
    monkeypatch.setenv("GANLIB_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(socket, "create_connection", _no_network)  # never wait on, or use, a network
    get_extractor.cache_clear()
    assert main(["fid", str(a), str(b), "--device", "cpu"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "weights" in line and "pt_inception-2015-12-05" in line and "--features digits" in line
    # --inception-weights pointing nowhere says so too
    assert main(["fid", str(a), str(b), "--inception-weights", str(tmp_path / "nope.pth")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "nope.pth" in line and "--features digits" in line


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing", "no such folder or file"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "empty"),
    (lambda d: _write(d / "junk.npz", b"not a zip file"), "not a readable .npz"),
    (lambda d: np.savez(d / "nosigma.npz", mu=np.zeros(128)) or d / "nosigma.npz", "no sigma"),
    (lambda d: np.savez(d / "shape.npz", mu=np.zeros(128), sigma=np.zeros((3, 3))) or d / "shape.npz",
     "bad statistics"),
    (lambda d: np.savez(d / "dims.npz", mu=np.zeros(3), sigma=np.eye(3)) or d / "dims.npz", "3-d statistics"),
    (lambda d: _write(d / "notes.txt", b"hello"), "not an .npz"),
    (lambda d: _write((d / "junk").mkdir() or d / "junk" / "x.png", b"garbage").parent, "no readable image"),
], ids=["missing", "empty-folder", "bad-npz", "npz-without-sigma", "npz-bad-shape", "npz-other-dims",
        "other-file", "no-readable-images"])
def test_fid_bad_paths(make, words, folders, tmp_path, capsys):
    bad = make(tmp_path)
    assert main(["fid", str(folders[0]), str(bad), "--features", "digits", "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert words in line, line
    assert captured.out == ""


@pytest.mark.parametrize("extra, words", [
    (["--features", "nope"], "unknown feature extractor 'nope'"),
    (["--batch-size", "0"], "--batch-size"),
    (["--dims", "2048"], "--dims 2048"),
    (["--device", "gpu"], "--device"),
], ids=["unknown-extractor", "bad-batch", "bad-dims", "bad-device"])
def test_fid_bad_options(extra, words, folders, capsys):
    a, b = folders
    assert main(["fid", str(a), str(b), "--features", "digits", "--device", "cpu", *extra]) == 2
    assert words in one_error_line(capsys.readouterr().err)


# ---- metrics -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """One epoch of mlp_gan on 256 digits, with one live evaluation at its end (N = 256)."""
    cfg = TrainConfig(model="mlp_gan", loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, max_images=256, batch_size=64,
                      epochs=1, device="cpu", eval_every=1, eval_samples=500)
    result = training.train(cfg, runs_dir=tmp_path_factory.mktemp("runs"))
    assert result.state == "completed", result.error
    return result.run.path


def test_metrics_table(tiny_run):
    rc, out, err = run_main(["metrics", tiny_run, "--device", "cpu"])
    assert rc == 0, err
    rows = {line.split("  ")[0].strip(): line for line in out.splitlines()}
    for metric in ("FID", "KID ×10³", "IS", "precision", "recall", "classes covered", "class KL"):
        assert metric in rows, out
        assert "digits" in rows[metric] and " 256" in rows[metric]  # every value names extractor and N
    for metric in ("FID floor (real vs real)", "KID ×10³ floor (real vs real)"):  # 256 images < 2N: halves
        assert "digits" in rows[metric] and " 128" in rows[metric] and "two halves of 128" in rows[metric], out
    assert "label accuracy" not in rows  # unconditional run
    assert tiny_run.name in out and "best.pt  (epoch 1)" in out  # best.pt by default, when there is one
    assert " / 10" in rows["classes covered"]


def test_metrics_json_matches_the_live_evaluation(tiny_run):
    rc, out, err = run_main(["metrics", tiny_run, "--device", "cpu", "--json"])
    assert rc == 0, err
    res = json.loads(out)  # strict JSON: NaN would have become null
    assert {"fid", "kid", "precision", "recall", "extractor", "eval_n", "fid_std", "kid_std", "is_mean",
            "classes_covered", "class_kl", "checkpoint", "epoch"} <= set(res)
    assert res["extractor"] == "digits" and res["eval_n"] == 256 and res["epoch"] == 1
    assert res["fid"] > 0 and 0 <= res["precision"] <= 1 and 0 <= res["recall"] <= 1
    # Same checkpoint, data, seed and cached real reference as the engine's evaluation at epoch 1.
    live = pd.read_csv(tiny_run / "metrics.csv").iloc[-1]
    assert res["floor_n"] == 128 and 0 <= res["fid_floor"] < res["fid"]
    for key in ("fid", "fid_std", "kid", "precision", "recall", "fid_floor", "kid_floor"):
        assert res[key] == pytest.approx(live[key], rel=1e-6, abs=1e-9), key
    assert "using N = 256" in err  # eval_samples 500 > 256 images: the cap is said


def test_metrics_with_n_and_checkpoint(tiny_run):
    rc, out, err = run_main(["metrics", tiny_run, "--device", "cpu", "--json", "--n", "100",
                             "--extractor", "digits", "--checkpoint", "epoch_0001.pt"])
    assert rc == 0, err
    res = json.loads(out)
    assert res["eval_n"] == 100 and res["real_n"] == 100
    assert res["checkpoint"] == str(tiny_run / "ckpt" / "epoch_0001.pt") and res["epoch"] == 1
    assert any("N=100" in w for w in res["warnings"])  # 100 < 128 dims


@pytest.mark.parametrize("extra, words", [
    (["--extractor", "nope"], "unknown feature extractor"),
    (["--checkpoint", "epoch_0099.pt"], "no checkpoint"),
    (["--n", "1"], "--n"),
], ids=["unknown-extractor", "missing-checkpoint", "bad-n"])
def test_metrics_errors(extra, words, tiny_run, capsys):
    assert main(["metrics", str(tiny_run), "--device", "cpu", *extra]) == 2
    assert words in one_error_line(capsys.readouterr().err)


def test_metrics_missing_run(tmp_path, capsys):
    assert main(["metrics", str(tmp_path / "nope")]) == 2
    assert "no run at" in one_error_line(capsys.readouterr().err)

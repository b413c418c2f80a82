"""Issue 11, runs: out-of-range configs and configs that cannot fit are refused before a run
folder exists; one trainer per run (an OS lock that a kill does not leave behind); the temp
files of a killed write are removed at the next start; a killed run lists the epoch a resume
starts from; 16-bit and float images are scaled, not clipped (items 4, 5, 6, 7, 8, 9)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganlib.cli import main
from ganlib.core.errors import ConfigError, RunBusy
from ganlib.data.image_files import read_image
from ganlib.engine import memory
from ganlib.engine.training import train
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run
from ganlib.store.run_health import summary_row
from ganlib.store.run_lock import RunLock

REPO = Path(__file__).resolve().parents[1]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ---- 6, 7 and 4: flags out of range, a runs folder that is a file, a run that cannot fit ------------------
@pytest.mark.parametrize("flags, words", [
    (["--epochs", "1000000000"], "epochs: must be between 1 and 5,000, got 1000000000"),
    (["--epochs", "-3"], "epochs: must be between 1 and 5,000, got -3"),
    (["--gradient-penalty", "maybe"], "gradient_penalty: expected true or false"),
    (["--seed", str(2**70)], "seed: must be between 0 and 2,147,483,647"),
    (["--image-size", "512", "--channels", "3"], "image_size: must be between 8 and 256, got 512"),
    (["--latent-dim", "10000000"], "latent_dim: must be between 1 and 1,024"),
    (["--batch-size", "100000"], "batch_size: must be between 1 and 4,096"),
    (["--lr-g", "1e400"], "lr_g: expected a finite number"),
    (["--epochs", "abc"], "epochs: expected a whole number, got 'abc'"),
])
def test_train_refuses_bad_flags_before_anything_exists(tmp_path, capsys, flags, words):
    root = tmp_path / "runs"
    assert main(["train", "--runs-dir", str(root), "--device", "cpu", *flags]) == 2
    assert words in one_error_line(capsys)
    assert not root.exists()


def test_a_runs_dir_that_is_a_file_is_named(tmp_path, capsys):
    f = tmp_path / "runs.txt"
    f.write_text("x")
    assert main(["train", "--runs-dir", str(f), "--epochs", "1", "--max-images", "64", "--device", "cpu"]) == 2
    msg = one_error_line(capsys)
    assert f"{f} is a file, not a folder" in msg and "Errno" not in msg


def test_a_config_that_cannot_fit_is_refused_before_the_run_folder(tiny_cfg, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 8 << 20)  # 8 MiB free
    with pytest.raises(ConfigError) as e:
        train(tiny_cfg(), runs_dir=tmp_path / "a")
    assert "needs about" in str(e.value) and "but only 8 MiB is free" in str(e.value)
    assert e.value.field in ("batch_size", "image_size", "latent_dim", "max_images")
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    assert main(["train", "--runs-dir", str(tmp_path / "b"), "--max-images", "256", "--device", "cpu"]) == 2
    assert "needs about" in one_error_line(capsys)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_the_estimate_counts_models_activations_and_data():
    small = memory.estimate(TrainConfig(), n_images=5000, num_classes=10)
    assert 0 < small.total < 1 << 30  # the default recipe is far from any limit
    assert small.data == 5000 * 1 * 28 * 28 + 5000 * 8  # uint8 pixels and int64 labels on the device
    big = memory.estimate(TrainConfig(batch_size=4096), n_images=5000, num_classes=10)
    assert big.activations > 30 * small.activations and big.culprit(TrainConfig(batch_size=4096)) == "batch_size"


# ---- 5: one trainer per run ----------------------------------------------------------------------------
HOLDER = """
import sys, time
from pathlib import Path
from ganlib.store.run_folder import Run
from ganlib.store.run_lock import RunLock
lock = RunLock(Run(Path(sys.argv[1]))).acquire()  # kept: a dropped FileLock releases itself
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.slow  # a subprocess that imports ganlib
def test_a_second_trainer_is_refused_with_the_pid_and_a_killed_one_does_not_block(tiny_cfg, tmp_path, capsys):
    run = train(tiny_cfg(epochs=1), runs_dir=tmp_path).run
    lock = RunLock(run).acquire()  # this process: a second lock on the run is refused too
    with pytest.raises(RunBusy, match=f"being trained by process {os.getpid()}"):
        RunLock(run).acquire()
    lock.release()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run.path)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunBusy, match=f"run {run.name} is being trained by process {holder.pid}"):
            train(tiny_cfg(epochs=2), resume=run.path)
        assert main(["train", "--resume", str(run.path), "--epochs", "2"]) == 2
        err = capsys.readouterr().err.strip().splitlines()  # "resuming ... from epoch 1", then the refusal
        assert err[-1].startswith("error: run ") and f"process {holder.pid}" in err[-1] and len(err) <= 2
        assert [e for e, _ in run.checkpoints()] == [1]  # nothing was trained or written
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    res = train(tiny_cfg(epochs=2), resume=run.path)  # the kernel dropped the dead holder's lock
    assert res.state == "completed" and res.epoch == 2
    assert RunLock(run).acquire().held  # and the finished trainer released its own


# ---- 9: leftovers and stale views ----------------------------------------------------------------------
def test_temp_files_of_a_killed_write_go_at_the_next_start(tiny_cfg, tmp_path):
    run = train(tiny_cfg(epochs=1), runs_dir=tmp_path).run
    torn = [run.checkpoint_dir / ".epoch_0002.pt.k1ll3d9x.tmp", run.path / ".metrics.csv.a8b7c6d5.tmp"]
    for p in torn:
        p.write_bytes(os.urandom(1 << 16))
    assert train(tiny_cfg(epochs=2), resume=run.path).state == "completed"
    assert not any(p.exists() for p in torn)
    assert not [p for p in run.path.rglob("*.tmp")]


def test_a_killed_run_lists_the_epoch_a_resume_starts_from(tiny_cfg, tmp_path, capsys):
    run = train(tiny_cfg(epochs=3, checkpoint_every=2), runs_dir=tmp_path).run
    run.checkpoint_path(3).unlink()  # as if killed during epoch 3's end: metrics say 3, the checkpoint 2
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status(state="running")
    st = (run.path / "status.json").read_text().replace(f'"pid": {os.getpid()}', f'"pid": {dead.pid}')
    (run.path / "status.json").write_text(st)
    row = summary_row(Run(run.path))
    assert row["status"] == "interrupted" and row["epoch"] == 2
    assert "last checkpoint is epoch 2, where a resume restarts" in row["error"]
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert "2/3" in capsys.readouterr().out


# ---- 8: 16-bit and float images ------------------------------------------------------------------------
def test_16_bit_and_float_images_are_scaled_or_refused_with_a_reason(tmp_path):
    rng = np.random.default_rng(0)
    gray16 = rng.integers(0, 65536, (16, 16), dtype=np.uint16)
    for name in ("a.png", "a.tif"):
        Image.fromarray(gray16).save(tmp_path / name)
        a = read_image(tmp_path / name)
        assert a.dtype == np.uint8 and abs(a.mean() - gray16.mean() / 257) < 0.6  # not 253 (clipped to white)
    f = rng.random((16, 16), dtype=np.float32)
    Image.fromarray(f).save(tmp_path / "f.tif")
    assert abs(read_image(tmp_path / "f.tif").mean() - f.mean() * 255) < 0.6  # not 0 (black)
    Image.fromarray(f * 1000 - 5).save(tmp_path / "bad.tif")
    reasons: list[str] = []
    assert read_image(tmp_path / "bad.tif", reasons=reasons) is None
    assert reasons and reasons[0].startswith("bad.tif: float pixels range from")


def test_train_on_a_folder_says_which_files_it_skipped(image_folder, tmp_path, capsys):
    assert main(["train", "--runs-dir", str(tmp_path), "--dataset", "folder", "--data-path", str(image_folder),
                 "--model", "mlp_gan", "--loss", "nonsaturating", "--image-size", "16", "--channels", "3",
                 "--epochs", "1", "--batch-size", "4", "--eval-every", "0", "--device", "cpu",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "data: 9 images in 2 classes; 2 unreadable or non-image files skipped (first: " in err

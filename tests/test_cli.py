"""The command line (`ganlib.cli`), driven in-process through `main([...])`.

Every run goes to a temporary --runs-dir; the library's default runs dir is also pointed at a
temporary folder so that a test can never write into the repo's checkpoints/.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ganlib.store.run_folder
from ganlib.cli import main
from ganlib.cli.commands import COMMANDS
from ganlib.engine.update_rules.gan import GANUpdate
from ganlib.store.config import TrainConfig
from ganlib.store.presets import PRESETS, apply_preset
from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict

REPO = Path(__file__).resolve().parents[1]
TINY = ["--max-images", "256", "--batch-size", "64", "--device", "cpu"]


@pytest.fixture(autouse=True)
def _no_default_runs_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(ganlib.store.run_folder, "DEFAULT_RUNS_DIR", tmp_path_factory.mktemp("default_runs"))


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """main() with stdout and stderr captured (usable in module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def printed_path(stdout: str) -> Path:
    return Path(stdout.strip().splitlines()[-1])


def make_folder(path: Path, n: int) -> Path:
    """n small random PNGs, no subfolders: an unlabelled folder dataset."""
    path.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(path / f"{i:03d}.png")
    return path


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def mlp_run(runs_root):
    """A 2-epoch mlp_gan run on 256 mnist5k digits, trained with the progress bar on."""
    rc, out, err = run_main(["train", "--dataset", "mnist5k", "--model", "mlp_gan", "--epochs", "2",
                             *TINY, "--runs-dir", runs_root])
    return rc, out, err


@pytest.fixture(scope="module")
def cgan_run(runs_root, tmp_path_factory) -> Path:
    """A 1-epoch cgan run on a labelled folder (3 class subfolders): quicker to load than mnist5k."""
    data = tmp_path_factory.mktemp("labelled")
    for k in range(3):
        make_folder(data / f"class{k}", 32)
    rc, out, err = run_main(["train", "--model", "cgan", "--dataset", "folder", "--data-path", data,
                             "--epochs", "1", "--batch-size", "32", "--device", "cpu", "--runs-dir", runs_root,
                             "--no-progress"])
    assert rc == 0, err
    return printed_path(out)


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("data") / "imgs", 128)


# ---- train ---------------------------------------------------------------------------------------
def test_train_writes_a_complete_run(mlp_run, runs_root):
    rc, out, err = mlp_run
    assert rc == 0, err
    run = printed_path(out)
    assert run.is_dir() and run.parent == runs_root
    assert json.loads((run / "config.json").read_text())["epochs"] == 2
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "images_per_sec"} <= set(metrics.columns)
    assert (run / "samples" / "epoch_0002.png").is_file()
    assert list((run / "ckpt").glob("*.pt"))
    assert json.loads((run / "status.json").read_text())["state"] == "completed"
    # one summary line per epoch on stderr, stdout holds only the run folder
    assert "epoch 1/2  d_loss" in err and "epoch 2/2  d_loss" in err and "D(G(z))" in err and "img/s" in err
    assert out.strip() == str(run)


def test_underscore_flags_are_accepted(tmp_path):
    folder = make_folder(tmp_path / "imgs", 8)
    # batch_size=64 > 8 images: the underscore flags reached the config and the data check
    rc, out, err = run_main(["train", "--dataset", "folder", "--data_path", folder, "--batch_size", "64",
                             "--device", "cpu", "--runs-dir", tmp_path / "runs"])
    assert rc == 2 and "batch_size" in err


def test_resume_continues_to_more_epochs(mlp_run, tmp_path):
    src = printed_path(mlp_run[1])
    root = tmp_path / "runs"
    shutil.copytree(src, root / src.name)  # resume a copy: the module's run stays at 2 epochs
    rc, out, err = run_main(["train", "--resume", src.name, "--runs-dir", root, "--epochs", "3",
                             "--no-progress"])
    assert rc == 0, err
    run = printed_path(out)
    assert run == root / src.name
    assert list(pd.read_csv(run / "metrics.csv")["epoch"]) == [1, 2, 3]
    assert (run / "ckpt" / "epoch_0003.pt").is_file()
    assert json.loads((run / "config.json").read_text())["epochs"] == 3
    assert "epoch 3/3" in err


def test_resume_refuses_fewer_epochs_and_model_changes(mlp_run, capsys):
    run = printed_path(mlp_run[1])
    before = (run / "metrics.csv").read_text()
    assert main(["train", "--resume", str(run), "--epochs", "1"]) == 2
    assert main(["train", "--resume", str(run), "--epochs", "4", "--lr-g", "0.001"]) == 2
    assert main(["train", "--resume", str(run / "nope")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "epochs" in lines[0] and "lr_g" in lines[1] and "no run" in lines[2]
    assert (run / "metrics.csv").read_text() == before


def test_ctrl_c_stops_cleanly_with_last_good_checkpoint(unlabelled, tmp_path, monkeypatch):
    """A SIGINT in epoch 2 stops the run: exit 130, epoch 1 saved, resumable."""
    calls = {"n": 0}
    step = GANUpdate.train_step

    def step_then_interrupt(self, x, y, i, progress):
        calls["n"] += 1
        if calls["n"] == 6:  # 4 steps per epoch: this is epoch 2
            os.kill(os.getpid(), signal.SIGINT)
        return step(self, x, y, i, progress)

    monkeypatch.setattr(GANUpdate, "train_step", step_then_interrupt)
    handler = signal.getsignal(signal.SIGINT)
    rc, out, err = run_main(["train", "--dataset", "folder", "--data-path", unlabelled, "--batch-size", "32",
                             "--model", "mlp_gan", "--epochs", "3", "--device", "cpu", "--runs-dir", tmp_path,
                             "--no-progress"])
    assert rc == 130, err
    assert signal.getsignal(signal.SIGINT) is handler  # our handler is gone again
    run = printed_path(out)
    assert json.loads((run / "status.json").read_text())["state"] == "stopped"
    assert [p.name for p in (run / "ckpt").glob("*.pt")] == ["epoch_0001.pt"]
    assert len(pd.read_csv(run / "metrics.csv")) == 1
    assert "--resume" in err


def test_diverged_run_exits_non_zero_with_the_error(unlabelled, tmp_path, monkeypatch):

    monkeypatch.setattr(GANUpdate, "epoch_means",
                        lambda self: dict.fromkeys(GANUpdate.stat_names, float("nan")))
    rc, out, err = run_main(["train", "--dataset", "folder", "--data-path", unlabelled, "--batch-size", "32",
                             "--model", "mlp_gan", "--epochs", "2", "--device", "cpu", "--runs-dir", tmp_path,
                             "--no-progress"])
    assert rc == 1
    assert "error: run" in err and "diverged" in err and "NaN" in err
    assert json.loads((printed_path(out) / "status.json").read_text())["state"] == "diverged"


# ---- bad arguments: one line on stderr naming the field, exit 2, no run folder -----------------------
@pytest.mark.parametrize("args, field", [
    (["--lr-g", "-1"], "lr_g"),
    (["--model", "nope"], "model"),
    (["--epochs", "two"], "epochs"),
    (["--bach-size", "4"], "bach_size"),
    (["--device", "cuda:x"], "device"),
], ids=["negative-lr", "unknown-model", "bad-int", "unknown-flag", "bad-device"])
def test_bad_config_values(args, field, tmp_path, capsys):
    assert main(["train", *args, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {field}: "), err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_only_our_own_errors_are_user_errors(tmp_path, capsys, monkeypatch):
    """A ValueError from deep inside a library is a bug: it keeps its traceback instead of
    passing as a quiet one-line "user error" (exit 2); a run or name that is not there is ours."""
    import ganlib.cli.runs

    assert main(["sample", "no-such-run", "--out", str(tmp_path / "x.png"), "--runs-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: no run at no-such-run")
    assert main(["fid", str(tmp_path / "missing"), str(tmp_path / "also-missing")]) == 2  # NotFound: ours
    assert "no such folder or file" in capsys.readouterr().err

    def bug(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")  # what numpy would raise

    monkeypatch.setattr(ganlib.cli.runs, "list_runs", bug)
    with pytest.raises(ValueError, match="broadcast"):
        main(["runs", "--runs-dir", str(tmp_path)])


def test_negative_lr_message(tmp_path, capsys):
    assert main(["train", "--lr-g", "-1", "--runs-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: lr_g: learning rate must be a positive number, got -1")


def test_unknown_flag_suggests_the_field(tmp_path, capsys):
    assert main(["train", "--bach-size", "4", "--runs-dir", str(tmp_path)]) == 2
    assert "did you mean --batch-size?" in capsys.readouterr().err


def test_preset_fills_the_config_and_flags_override_it(tmp_path):
    rc, out, err = run_main(["train", "--preset", "seed004", "--epochs", "1", "--batch-size", "32",
                             "--max-images", "256", "--device", "cpu", "--eval-every", "0", "--runs-dir", tmp_path,
                             "--no-progress"])
    assert rc == 0, err
    cfg = TrainConfig.from_dict(json.loads((printed_path(out) / "config.json").read_text()))
    assert cfg == apply_preset("seed004", epochs=1, batch_size=32, max_images=256, device="cpu", eval_every=0)
    assert (cfg.model, cfg.batch_size, cfg.lr_d, cfg.beta1) == ("cgan", 32, 2e-4, 0.5)  # flags beat the preset


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope"], "error: preset: unknown preset 'nope'; choose one of " + ", ".join(PRESETS.names())),
    (["--preset", "seed000", "--resume", "somewhere"], "error: --preset starts a new run; --resume continues one"),
    (["--preset", "seed000", "--config", "cfg.json"], "error: --config and --preset both choose the starting config"),
], ids=["unknown", "with-resume", "with-config"])
def test_preset_errors_are_one_line(args, message, tmp_path, capsys):
    assert main(["train", *args, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(message), err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("model, batch, field", [("mlp_gan", "200", "batch_size"), ("cgan", "16", "model")],
                         ids=["batch-larger-than-data", "cgan-on-unlabelled-data"])
def test_config_checked_against_the_data(model, batch, field, unlabelled, tmp_path, capsys):
    rc = main(["train", "--dataset", "folder", "--data-path", str(unlabelled), "--model", model,
               "--batch-size", batch, "--device", "cpu", "--runs-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {field}: "), err
    assert not list(tmp_path.iterdir())  # nothing written before the checks


def test_dataset_unavailable_offline(tmp_path, capsys, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, *a, download=False, **k):
            raise RuntimeError("Dataset not found." if not download else "Error downloading: no network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    assert main(["train", "--dataset", "mnist", "--data-path", str(tmp_path / "data"),
                 "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: mnist is not in") and "mnist5k" in err


def test_argparse_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["train", "--epochs"]) == 2
    assert main(["train", "stray"]) == 2
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out


# ---- sample --------------------------------------------------------------------------------------
def test_sample_png_with_label(cgan_run, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["sample", str(cgan_run), "--n", "16", "--label", "1", "--seed", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with Image.open(out) as im:
        im.load()
        assert im.width > 28 * 4


def test_sample_npz_by_run_name(cgan_run, runs_root, tmp_path, capsys):
    out = tmp_path / "sub" / "s.npz"
    assert main(["sample", cgan_run.name, "--runs-dir", str(runs_root), "--n", "12", "--label", "2",
                 "--seed", "2", "--out", str(out)]) == 0
    with np.load(out) as d:
        assert d["images"].dtype == np.uint8 and d["images"].shape == (12, 28, 28)
        assert d["labels"].tolist() == [2] * 12
        first = d["images"].copy()
    assert main(["sample", str(cgan_run), "--n", "12", "--label", "2", "--seed", "2", "--out", str(out)]) == 0
    with np.load(out) as d:
        assert np.array_equal(d["images"], first)  # same seed, same images


def test_sample_unconditional_npz(mlp_run, tmp_path):
    out = tmp_path / "s.npz"
    rc, _, err = run_main(["sample", printed_path(mlp_run[1]), "--n", "5", "--out", out])
    assert rc == 0 and "seed" in err  # a random seed is printed so the draw can be repeated
    with np.load(out) as d:
        assert d["images"].shape == (5, 28, 28) and d["labels"].tolist() == [-1] * 5


@pytest.mark.parametrize("extra, words", [
    (["--label", "3"], "unconditional"),
    (["--checkpoint", "epoch_0099.pt"], "no checkpoint"),
    (["--n", "0"], "n must be"),
], ids=["label-on-unconditional", "missing-checkpoint", "bad-n"])
def test_sample_errors_mlp_run(extra, words, mlp_run, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["sample", str(printed_path(mlp_run[1])), *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and words in err, err
    assert not out.exists()


@pytest.mark.parametrize("extra, out_name, words", [
    (["--label", "3"], "x.png", "labels must be between 0 and 2"),
    ([], "x.jpg", ".png or .npz"),
], ids=["label-out-of-range", "wrong-extension"])
def test_sample_errors_cgan_run(extra, out_name, words, cgan_run, tmp_path, capsys):
    assert main(["sample", str(cgan_run), *extra, "--out", str(tmp_path / out_name)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


def test_sample_missing_run(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nope"), "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error: no run at")


# ---- runs ----------------------------------------------------------------------------------------
def test_runs_lists_the_runs(mlp_run, cgan_run, runs_root, capsys):
    assert main(["runs", "--runs-dir", str(runs_root)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["run", "status", "model", "dataset", "epoch", "d_loss", "g_loss", "health"]
    body = "\n".join(lines[1:])
    assert printed_path(mlp_run[1]).name in body and cgan_run.name in body
    mlp_line = next(line for line in lines if printed_path(mlp_run[1]).name in line)
    assert mlp_line.split()[1:5] == ["completed", "mlp_gan", "mnist5k", "2/2"]
    health = lines[0].index("health")
    assert mlp_line[health:].strip() == run_verdict(Run(printed_path(mlp_run[1]))).label
    for column in ("status", "model", "dataset", "health"):  # aligned: every row's cell starts under its header
        at = lines[0].index(column)
        assert all(line[at - 2:at] == "  " and line[at] != " " for line in lines)
    assert max(len(line) for line in lines) <= 120


def test_runs_lists_an_unreadable_run_with_a_question_mark(mlp_run, tmp_path, capsys):
    good = printed_path(mlp_run[1])
    root = tmp_path / "runs"
    shutil.copytree(good, root / good.name)
    broken = root / "00099-mlp_gan-mnist5k"
    broken.mkdir()
    shutil.copy(good / "config.json", broken / "config.json")
    (broken / "metrics.csv").mkdir()  # unreadable as a file
    (broken / "status.json").write_bytes(b"\xff\xfe not json")
    assert main(["runs", "--runs-dir", str(root)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    bad = next(line for line in lines if line.startswith(broken.name))
    assert bad.split()[1] == "?" and bad.split()[-1] == "?"
    assert next(line for line in lines if line.startswith(good.name)).split()[1] == "completed"


def test_runs_empty_dir(tmp_path, capsys):
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no runs" in captured.err


def test_every_registered_command_has_help(capsys):
    assert list(COMMANDS) == ["train", "sample", "runs", "fork", "fid", "metrics", "export", "import", "config",
                              "tensorboard", "timelapse", "translate", "augment", "style-mix",
                              "ppl", "sweep", "users", "data", "families"]  # the order of --help
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: python -m ganlib {name} ")
    assert main(["runs", "--bogus"]) == 2  # an unknown flag of a command without config flags
    assert capsys.readouterr().err.strip() == ("error: unrecognized argument '--bogus' for runs "
                                               "(see python -m ganlib runs --help)")


# ---- the module entry point ----------------------------------------------------------------------
@pytest.mark.slow
def test_python_m_ganlib_help():
    proc = subprocess.run([sys.executable, "-m", "ganlib", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "train" in proc.stdout and "sample" in proc.stdout and "runs" in proc.stdout

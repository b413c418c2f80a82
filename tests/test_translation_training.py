"""pix2pix and CycleGAN through the engine: a few steps with finite losses, exact resumes on
CPU, reloading for translation, the CLI's translate command and the config rules."""
import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganlib.cli import main
from ganlib.core.errors import ConfigError
from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import prepare, train
from ganlib.engine.update_rules.translation import decay_factor
from ganlib.explore.sampling import get_generator
from ganlib.explore.translation import held_out_translation, translate_images
from ganlib.store.config import TrainConfig, relevant_fields
from ganlib.store.run_folder import Run

TERMS = {"pix2pix": ("d_loss", "g_loss", "g_adv", "g_l1"),
         "cyclegan": ("d_loss", "g_loss", "g_adv", "g_cycle", "g_identity")}
DATA = {"pix2pix": "edges2digits", "cyclegan": "digits2styled"}


def tiny(model, **kw):
    """64 images at 16 px, batch 16: 4 steps an epoch. One torch thread: on a CPU shared with other
    work, two threads wait on each other (docs/PERF.md)."""
    base = dict(model=model, dataset=DATA[model], max_images=64, image_size=16, batch_size=16, epochs=2,
                lr_g=2e-4, lr_d=2e-4, device="cpu", checkpoint_every=1, eval_every=0, cpu_threads=1)
    if model == "cyclegan":
        base["pool_size"] = 6  # full after the first step: the replacement path runs too
    return TrainConfig(**{**base, **kw})


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_trains_with_finite_loss_terms_and_a_translation_grid(model, tmp_path):
    res = train(tiny(model), runs_dir=tmp_path)
    assert res.state == "completed", res.error
    for row in res.rows:
        for k in TERMS[model]:
            assert math.isfinite(row[k]), k
    assert res.rows[-1]["g_loss"] > 0
    stream = Run(res.run.path).stream()
    assert stream and all(k in stream[-1] for k in TERMS[model])  # every term is streamed, so charted
    with Image.open(Run(res.run.path).sample_path(2)) as im:  # 8 rows: input | output | target (| back)
        panels = 4 if model == "cyclegan" else 3
        assert im.width == 2 + panels * 18 and im.height == 2 + 8 * 18


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_resumed_equals_uninterrupted(model, tmp_path):
    """Stopped in epoch 2 (the schedule runs over the planned epochs, so the plan stays 3),
    then resumed from epoch 1: the same losses as the run that never stopped."""
    full = train(tiny(model, epochs=3, checkpoint_every=10), runs_dir=tmp_path / "a")
    steps = {"n": 0}

    def stop_in_epoch_two():
        steps["n"] += 1
        return steps["n"] > 4 + 2  # 4 steps an epoch

    half = train(tiny(model, epochs=3, checkpoint_every=10), runs_dir=tmp_path / "b",
                 callbacks=Callbacks(should_stop=stop_in_epoch_two))
    assert half.state == "stopped" and half.epoch == 1
    rest = train(tiny(model, epochs=3, checkpoint_every=10), resume=half.run.path)
    assert [r["epoch"] for r in rest.rows] == [1, 2, 3]
    for a, b in zip(full.rows, rest.rows):
        assert [a[k] for k in TERMS[model]] == [b[k] for k in TERMS[model]]


def test_learning_rates_decay_linearly_over_the_last_half(tmp_path):
    assert decay_factor(0.0) == decay_factor(0.5) == 1.0
    assert decay_factor(0.75) == pytest.approx(0.5) and decay_factor(1.0) == 0.0
    res = train(tiny("pix2pix", epochs=4), runs_dir=tmp_path)
    trainer = prepare(tiny("pix2pix", epochs=4), resume=res.run.path)
    trainer.rule.set_learning_rates(0.875)
    assert trainer.rule.opt_g.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.25)


def test_cyclegan_reloads_and_translates_both_ways_with_its_metrics(tmp_path):
    res = train(tiny("cyclegan", eval_every=1, epochs=1), runs_dir=tmp_path)
    row = res.rows[-1]
    for k in ("l1", "ssim", "psnr", "fid", "content_acc", "cycle_l1", "l1_copy", "content_acc_copy"):
        assert math.isfinite(row[k]), k
    handle = get_generator(res.run.path)
    forward = held_out_translation(handle, "AtoB", count=4)
    assert list(forward.panels) == ["input", "output", "target", "back"]
    assert forward.panels["output"].shape == (4, 1, 16, 16)
    backward = held_out_translation(handle, "BtoA", count=4)
    assert (backward.panels["input"] != forward.panels["input"]).any()  # B's thick digits now go in
    assert translate_images(handle, torch.zeros(2, 1, 16, 16), "BtoA").panels["output"].shape == (2, 1, 16, 16)


def test_cli_trains_and_translates_a_folder(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "--model", "pix2pix", "--dataset", "edges2digits", "--max-images", "32",
                 "--image-size", "16", "--batch-size", "16", "--epochs", "1", "--eval-every", "0", "--cpu-threads", "1",
                 "--device", "cpu", "--runs-dir", str(runs)]) == 0
    run = next(runs.iterdir())
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a", "b"):
        Image.new("L", (28, 28), 0).save(inputs / f"{name}.png")
    (inputs / "notes.txt").write_text("not an image")
    assert main(["translate", str(run), "--input", str(inputs), "--out", str(tmp_path / "out")]) == 2
    assert "notes.txt is not a readable image" in capsys.readouterr().err
    (inputs / "notes.txt").unlink()
    assert main(["translate", str(run), "--input", str(inputs), "--out", str(tmp_path / "out")]) == 0
    with Image.open(tmp_path / "out" / "a.png") as im:
        assert im.size == (16, 16)
    assert main(["translate", str(run), "--input", str(inputs), "--out", str(tmp_path / "o2"),
                 "--direction", "BtoA"]) == 2
    assert "learned AtoB only" in capsys.readouterr().err


def test_config_rules_for_translation_models(tmp_path):
    with pytest.raises(ConfigError, match="n_critic"):
        TrainConfig(model="pix2pix", dataset="edges2digits", n_critic=2)
    with pytest.raises(ConfigError, match="dataset"):
        train(TrainConfig(model="pix2pix", dataset="digits2styled", max_images=32, epochs=1, device="cpu"),
              runs_dir=tmp_path)
    with pytest.raises(ConfigError, match="dataset mnist5k has one"):
        train(TrainConfig(model="cyclegan", dataset="mnist5k", max_images=32, epochs=1, device="cpu"),
              runs_dir=tmp_path)
    gan = relevant_fields({"model": "dcgan", "loss": "hinge"})
    assert not {"lambda_l1", "lambda_cycle", "pool_size", "direction"} & gan
    p2p = relevant_fields({"model": "pix2pix", "dataset": "edges2digits"})
    assert {"lambda_l1", "direction"} <= p2p and not {"lambda_cycle", "n_critic", "latent_dim", "loss"} & p2p
    assert not list(tmp_path.iterdir())  # refused before any run folder exists


@pytest.mark.slow
def test_translation_benchmark_runs_and_writes_its_perf_section(tmp_path):
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_tq", root / "benchmarks" / "translation_quality.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    perf, out = tmp_path / "PERF.md", tmp_path / "tq.json"
    perf.write_text("# Performance\n\n## Other\n\nkept\n")
    assert bench.main(["--budget-s", "2", "--probe-s", "1", "--max-images", "64", "--threads", "1",
                       "--json", str(out), "--write-perf", str(perf)]) == 0
    results = json.loads(out.read_text())
    assert [r["model"] for r in results] == ["pix2pix", "cyclegan"]
    assert all(0 <= r["content_acc"] <= 1 for r in results) and "style_moved" in results[1]
    text = perf.read_text()
    assert "## Image-to-image translation" in text and "kept" in text


def test_cli_metrics_of_a_translation_run(tmp_path, capsys):
    res = train(tiny("pix2pix", epochs=1), runs_dir=tmp_path)
    assert main(["metrics", str(res.run.path), "--extractor", "digits", "--n", "64"]) == 0
    out = capsys.readouterr().out
    assert "L1 to target" in out and "content preserved, copy baseline" in out and "precision" not in out

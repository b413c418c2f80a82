"""Shared fixtures. Runs go to a temp folder: tests never write into the repo's checkpoints/.

Runs that several test files read are trained once per session into a "golden" folder
(`image_runs`, `evaluated_runs`, `translation_runs`); a test module gets its own copy
(`runs`, `eval_runs`, `tr_runs`: copying a few tiny runs takes milliseconds, training them
seconds), so a page that writes into a run (a favourite, an answer, a fork) cannot change what
another module reads.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

# Before any ganlib import reads it.
os.environ.setdefault("GANLIB_RUNS_DIR", tempfile.mkdtemp(prefix="ganlib-test-runs-"))
os.environ.setdefault("GANLIB_CACHE_DIR", tempfile.mkdtemp(prefix="ganlib-test-cache-"))

import pytest  # noqa: E402

from ganlib.engine.training import train  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402
from tests.helpers import TINY  # noqa: E402

OLD_RECIPE = dict(model="mlp_gan", loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, d_norm="batch")


# ---- configs -----------------------------------------------------------------------------------
@pytest.fixture
def tiny_default():
    """The recommended default on 512 digits: 8 steps an epoch."""

    def make(**kw):
        return TrainConfig(**{**dict(max_images=512, batch_size=64, epochs=2, device="cpu", checkpoint_every=1), **kw})

    return make


@pytest.fixture
def tiny_cfg():
    """512 real digits, batch 64: 8 steps an epoch, well under a second on 2 cores. The model
    is seed 000's MLP GAN with its recipe (what most engine tests were written against); tests
    of the recommended default ask for it with `tiny_default`."""

    def make(**kw):
        base = dict(max_images=512, batch_size=64, epochs=2, device="cpu", checkpoint_every=1, **OLD_RECIPE)
        return TrainConfig(**{**base, **kw})

    return make


# ---- runs trained once per session --------------------------------------------------------------
def _copy(golden: SimpleNamespace, dest: Path) -> SimpleNamespace:
    """The golden runs copied to `dest`, the same names, `Run`s rooted there."""
    shutil.copytree(golden.root, dest, dirs_exist_ok=True)
    out = {k: (Run(dest / v.name) if isinstance(v, Run) else v) for k, v in vars(golden).items()}
    return SimpleNamespace(**{**out, "root": dest})


@pytest.fixture(scope="session")
def image_runs(tmp_path_factory) -> SimpleNamespace:
    """A finished unconditional mlp_gan run (2 epochs, with an EMA generator so that G, D and G_ema
    are all there), a finished conditional cgan run, and a run with a config and no checkpoint yet
    (`fresh`, a folder name). Both evaluate at their last epoch (eval every 5: the end comes first)."""
    root = tmp_path_factory.mktemp("golden_image_runs")
    mlp = train(TrainConfig(model="mlp_gan", epochs=2, ema_decay=0.9, **TINY), runs_dir=root).run
    cgan = train(TrainConfig(model="cgan", epochs=2, **TINY), runs_dir=root).run
    fresh = root / "00002-mlp_gan-mnist5k"
    fresh.mkdir()
    shutil.copy(mlp.config_file, fresh / "config.json")
    return SimpleNamespace(root=root, mlp=mlp, cgan=cgan, fresh=fresh.name)


@pytest.fixture(scope="module")
def runs_copy(image_runs, tmp_path_factory) -> SimpleNamespace:
    return _copy(image_runs, tmp_path_factory.mktemp("runs"))


def _pointed(copy: SimpleNamespace, monkeypatch) -> SimpleNamespace:
    """The dashboard pointed at a copy of golden runs."""
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(copy.root))
    return copy


@pytest.fixture
def runs(runs_copy, monkeypatch) -> SimpleNamespace:
    """This module's copy of `image_runs`, and the dashboard pointed at it."""
    return _pointed(runs_copy, monkeypatch)


# A hand-written history in which the classifier finds fewer classes at the last evaluation
# than before (seed 002/004's mode-collapse sign), evaluated at N=500, unlike the real run.
COLLAPSE_CSV = """\
epoch,d_loss,g_loss,d_real,d_fake,fid,fid_std,kid,kid_std,precision,recall,classes_covered,class_kl,label_acc,eval_n,extractor
1,1.2,0.8,0.6,0.4,90.0,2.0,0.05,0.01,0.30,0.40,10,0.10,0.8,500,digits
2,1.1,0.9,0.6,0.4,,,,,,,,,,,
3,1.0,1.0,0.6,0.4,70.0,1.5,0.04,0.01,0.45,0.35,10,0.12,0.8,500,digits
4,0.9,1.1,0.6,0.4,75.0,1.5,0.04,0.01,0.60,0.20,6,0.90,0.5,500,digits
"""
# Collapsed from the start: the classifier finds one class at every evaluation, so nothing drops.
COLLAPSED_CSV = """\
epoch,d_loss,g_loss,d_real,d_fake,fid,fid_std,kid,kid_std,precision,recall,classes_covered,class_kl,label_acc,eval_n,extractor
1,1.2,0.8,0.6,0.4,900.0,2.0,0.05,0.01,0.30,0.00,1,2.30,0.1,500,digits
2,1.1,0.9,0.6,0.4,880.0,2.0,0.05,0.01,0.31,0.00,1,2.30,0.1,500,digits
"""
EARLY_STOP_NOTE = "Early stop at epoch 4: FID has not improved for 1 evaluations (best 70.00)."
# The untrained generator's evaluation, as the engine records it at the start of a run with live
# evaluation: the ceiling of the FID and KID charts.
UNTRAINED = {"epoch": 0, "untrained": True, "fid": 321.5, "fid_std": 2.0, "kid": 7.25, "kid_std": 0.1,
             "eval_n": 256, "extractor": "digits"}


@pytest.fixture(scope="session")
def evaluated_runs(tmp_path_factory) -> SimpleNamespace:
    """A conditional run evaluated every epoch (N=256), and a copy of it whose metrics.csv is a
    hand-written collapsing history at N=500, with an early-stop note and Inception asked for
    with a weights file that does not exist (the offline case); and one collapsed from the start."""
    root = tmp_path_factory.mktemp("golden_eval_runs")
    res = train(TrainConfig(model="cgan", epochs=2, eval_every=1, eval_samples=256, **TINY), runs_dir=root)
    assert res.state == "completed", res.error
    real = res.run
    real.write_evals([UNTRAINED] + real.evals())  # the engine's epoch-0 record, built by hand
    fake = root / "00001-cgan-mnist5k"
    shutil.copytree(real.path, fake)
    (fake / "metrics.csv").write_text(COLLAPSE_CSV)
    st = json.loads((fake / "status.json").read_text())
    (fake / "status.json").write_text(json.dumps({**st, "epoch": 4, "epochs": 4, "notes": [EARLY_STOP_NOTE]}))
    cfg = json.loads((fake / "config.json").read_text())
    cfg.update(epochs=4, extractor="inception", inception_weights=str(root / "missing" / "pt_inception.pth"))
    (fake / "config.json").write_text(json.dumps(cfg))
    collapsed = root / "00002-cgan-mnist5k"
    shutil.copytree(real.path, collapsed)
    (collapsed / "metrics.csv").write_text(COLLAPSED_CSV)
    return SimpleNamespace(root=root, run=real, collapse=fake.name, collapsed=collapsed.name)


@pytest.fixture(scope="module")
def eval_runs_copy(evaluated_runs, tmp_path_factory) -> SimpleNamespace:
    return _copy(evaluated_runs, tmp_path_factory.mktemp("eval_runs"))


@pytest.fixture
def eval_runs(eval_runs_copy, monkeypatch) -> SimpleNamespace:
    return _pointed(eval_runs_copy, monkeypatch)


@pytest.fixture(scope="session")
def translation_runs(tmp_path_factory) -> SimpleNamespace:
    """A 1-epoch pix2pix run on edges2digits and a CycleGAN run on digits2styled (16 px)."""
    root = tmp_path_factory.mktemp("golden_translation_runs")
    tiny = dict(max_images=32, image_size=16, batch_size=16, epochs=1, device="cpu", eval_every=0,
                lr_g=2e-4, lr_d=2e-4, cpu_threads=1)
    p2p = train(TrainConfig(model="pix2pix", dataset="edges2digits", **tiny), runs_dir=root).run
    cyc = train(TrainConfig(model="cyclegan", dataset="digits2styled", pool_size=4, **tiny), runs_dir=root).run
    return SimpleNamespace(root=root, p2p=p2p, cyc=cyc)


@pytest.fixture
def tr_runs(translation_runs, tmp_path_factory, monkeypatch) -> SimpleNamespace:
    return _pointed(_copy(translation_runs, tmp_path_factory.mktemp("tr_runs")), monkeypatch)


# ---- an empty dashboard, and jobs that do not outlive their test -------------------------------
@pytest.fixture
def empty_dir(tmp_path, monkeypatch):
    """The dashboard pointed at an empty runs folder."""
    return _pointed(SimpleNamespace(root=tmp_path), monkeypatch).root


@pytest.fixture
def stop_jobs(tmp_path):
    """Stop any job a Train test left running, so that it cannot slow the next tests (or hold
    the task runner's one slot)."""
    from ganlib.ui import resources  # a page test's fixture: the dashboard's own job manager

    yield
    jm = resources.job_manager_for(str(tmp_path))
    for snap in jm.jobs():
        if snap["active"]:
            jm.stop(snap["id"])
            jm.wait(snap["id"], timeout=30)


@pytest.fixture
def image_folder(tmp_path):
    """A folder of small images in two class subfolders, mixed sizes and modes, plus junk."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    for cls, n in (("cats", 5), ("dogs", 4)):
        d = root / cls
        d.mkdir(parents=True)
        for i in range(n):
            size = (20 + 3 * i, 30)
            arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            mode = ["RGB", "L", "RGBA", "P"][i % 4]
            Image.fromarray(arr).convert(mode).save(d / f"{i}.png")
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return root

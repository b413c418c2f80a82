"""Shared fixtures. Runs go to a temp folder: tests never write into the repo's checkpoints/."""
import os
import tempfile

# Before any ganlib import reads it.
os.environ.setdefault("GANLIB_RUNS_DIR", tempfile.mkdtemp(prefix="ganlib-test-runs-"))
os.environ.setdefault("GANLIB_CACHE_DIR", tempfile.mkdtemp(prefix="ganlib-test-cache-"))

import pytest  # noqa: E402

from ganlib.store.config import TrainConfig  # noqa: E402

OLD_RECIPE = dict(model="mlp_gan", loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, d_norm="batch")


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

"""Shared fixtures. Runs go to a temp folder: tests never write into the repo's checkpoints/."""
import os
import tempfile

# Before any ganlib import reads it.
os.environ.setdefault("GANLIB_RUNS_DIR", tempfile.mkdtemp(prefix="ganlib-test-runs-"))
os.environ.setdefault("GANLIB_CACHE_DIR", tempfile.mkdtemp(prefix="ganlib-test-cache-"))

import pytest  # noqa: E402

from ganlib.store.config import TrainConfig  # noqa: E402


@pytest.fixture
def tiny_cfg():
    """512 real digits, batch 64: 8 steps an epoch, well under a second on 2 cores."""

    def make(**kw):
        base = dict(max_images=512, batch_size=64, epochs=2, device="cpu", checkpoint_every=1)
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

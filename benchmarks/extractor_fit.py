"""Measures the extractor-fit rule (`metrics.extractor_choice`, `FitProbe`) on real data: for each
dataset or folder, each shipped classifier extractor's probe (FID of up to 500 real images'
features against its own training images', share recognised with probability >= 0.9) and what
`auto` picks. The numbers behind docs/PERF.md, "Which extractor fits".

    python benchmarks/extractor_fit.py [--grey-folder DIR]   # makes /tmp/adwaita_grey if not given
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib
    sys.path.insert(0, str(ROOT))
from PIL import Image  # noqa: E402

from ganlib.data import load_dataset, to_model_range  # noqa: E402
from ganlib.data.image_files import ReadOptions  # noqa: E402
from ganlib.data.inspection import sample  # noqa: E402
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable  # noqa: E402
from ganlib.metrics.extractor_choice import choose_extractor, probe  # noqa: E402

COLOUR_FOLDER = "/usr/share/icons/Adwaita/48x48/legacy"


def grey_folder(dest: Path) -> Path:
    """Adwaita's colour icons converted to greyscale (L) on white: non-digit greyscale images."""
    if not dest.is_dir() or not any(dest.iterdir()):
        dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(Path(COLOUR_FOLDER).glob("*.png")):
            im = Image.open(f).convert("RGBA")
            ground = Image.new("RGBA", im.size, "white")
            Image.alpha_composite(ground, im).convert("L").save(dest / f.name)
    return dest


def builtin(name: str, channels: int, size: int):
    data = load_dataset(name, channels=channels, image_size=size)

    def images(k: int) -> torch.Tensor:
        idx = torch.linspace(0, len(data) - 1, min(k, len(data))).round().long().unique()
        return data.batch(idx)
    return images


def folder(path: str, channels: int, size: int, background: str = "white"):
    read = ReadOptions(size, channels, background, "crop")
    return lambda k: to_model_range(torch.from_numpy(sample(path, read, k)), channels, size)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grey-folder", default="")
    args = ap.parse_args(argv)
    grey = args.grey_folder or str(grey_folder(Path("/tmp/adwaita_grey")))
    cases = {
        "mnist5k (28 px, grey)": builtin("mnist5k", 1, 28),
        "emoji (32 px, colour)": builtin("emoji", 3, 32),
        "emoji (28 px, grey)": builtin("emoji", 1, 28),
        f"Adwaita icons in grey ({grey}, 28 px)": folder(grey, 1, 28),
        f"Adwaita colour icons ({COLOUR_FOLDER}, 32 px)": folder(COLOUR_FOLDER, 3, 32),
        "Adwaita colour icons read on black (32 px, grey)": folder(COLOUR_FOLDER, 1, 32, "black"),
    }
    for label, images in cases.items():
        out = {"data": label}
        for name in FEATURE_EXTRACTORS:
            if FEATURE_EXTRACTORS.get(name).probe is None:
                continue
            try:
                fit = probe(name, images)
            except ExtractorUnavailable as e:
                out[name] = f"unavailable: {e}"
                continue
            out[name] = {"fits": fit.fits, "fid": round(fit.fid, 1), "confident": round(fit.confident, 3),
                         "n": fit.n}
        out["auto (as a folder)"] = choose_extractor("auto", "folder", images=images).name
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

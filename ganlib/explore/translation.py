"""Using a trained translator (pix2pix, CycleGAN): held-out examples, uploaded or on-disk
inputs, both directions and the cycle. The Translate page and `python -m ganlib translate`
call this; results come back as numpy arrays and PIL images so pages need not import torch.

Directions are named by the dataset's domains: a run trained `AtoB` translates A -> B with its
G; a CycleGAN also goes B -> A (its G_BA), a pix2pix only the way it was trained.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue, NotFound
from ganlib.core.images import grid_image, png_bytes, to_uint8
from ganlib.data import ImageData, cached_run_data, to_model_range
from ganlib.data.image_files import image_files, read_image
from ganlib.metrics.translation import translate
from ganlib.models import MODELS
from ganlib.models.handle import GeneratorHandle
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run


@dataclass
class Translation:
    panels: dict[str, np.ndarray]  # panel name -> uint8 (N, C, H, W): input, output, target?, back?
    direction: str

    def grid(self, scale: int = 3):
        """One example per row, its panels side by side."""
        names = list(self.panels)
        stacked = np.stack([self.panels[k] for k in names], 1).reshape(-1, *self.panels[names[0]].shape[1:])
        return grid_image(torch.from_numpy(stacked).float().div(127.5).sub(1), nrow=len(names), scale=scale)

    def png(self) -> bytes:
        return png_bytes(self.grid(scale=1))

    def pngs(self, panel: str = "output") -> list[bytes]:
        """One PNG per example of one panel, at the run's image size."""
        return [png_bytes(Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)))
                for a in self.panels[panel]]


def is_translator(handle: GeneratorHandle) -> bool:
    model = handle.config.get("model")
    return model in MODELS and MODELS.get(model).translation


def run_is_translation(run: Run) -> bool:
    """Whether a run folder holds an image-to-image run (its config names a translation model)."""
    try:
        model = run.config().model
    except (OSError, ValueError):  # no or unreadable config.json: not a run this page can open
        return False
    return MODELS.get(model).translation


def directions(handle: GeneratorHandle) -> list[str]:
    """The directions this run translates: its trained one, and the reverse for a CycleGAN."""
    trained = handle.config.get("direction", "AtoB")
    other = "BtoA" if trained == "AtoB" else "AtoB"
    return [trained, other] if hasattr(handle.G, "back") else [trained]


def check_direction(handle: GeneratorHandle, direction: Optional[str]) -> str:
    direction = direction or directions(handle)[0]
    if direction not in ("AtoB", "BtoA"):
        raise BadValue(f"direction must be AtoB or BtoA, got {direction!r}")
    if direction not in directions(handle):
        raise BadValue(f"this {handle.config.get('model')} run learned {directions(handle)[0]} only; "
                         f"--direction {direction} needs a CycleGAN")
    return direction


def run_data(handle: GeneratorHandle) -> ImageData:
    """The run's data as it trained (cached for viewers): `held_out` holds the examples."""
    return cached_run_data(TrainConfig.from_dict(handle.config))


def held_out(handle: GeneratorHandle, direction: str) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """(inputs, targets or None) of the held-out split in `direction`."""
    data = run_data(handle)
    split = data.held_out if data.held_out is not None else data
    a, b = split.source, (split.images if split.paired else None)
    if direction != directions(handle)[0]:
        a, b = (split.images, split.source if split.paired else None)
    return a, b


def translate_images(handle: GeneratorHandle, x: torch.Tensor, direction: Optional[str] = None,
                     target: Optional[torch.Tensor] = None) -> Translation:
    """Panels input | output | target (when given) | back (the cycle, for a CycleGAN)."""
    direction = check_direction(handle, direction)
    reverse = direction != directions(handle)[0]
    x = x.to(handle.device)
    out = translate(handle.G, x, back=reverse)
    panels = {"input": x, "output": out}
    if target is not None:
        panels["target"] = target.to(handle.device)
    if hasattr(handle.G, "back"):
        panels["back"] = translate(handle.G, out, back=not reverse)
    return Translation({k: to_uint8(v) for k, v in panels.items()}, direction)


def held_out_translation(handle: GeneratorHandle, direction: Optional[str] = None, start: int = 0,
                         count: int = 8) -> Translation:
    direction = check_direction(handle, direction)
    a, b = held_out(handle, direction)
    sl = slice(start, start + count)
    return translate_images(handle, a[sl], direction, b[sl] if b is not None else None)


def read_inputs(path: str | Path, channels: int, size: int) -> tuple[torch.Tensor, list[str]]:
    """Images from a file or a folder as the run's input: [-1, 1], its channels and size.
    Unreadable files are an error naming them."""
    p = Path(path).expanduser()
    files = [p] if p.is_file() else image_files(p) if p.is_dir() else []
    if not files:
        raise NotFound(f"--input {path}: no such file or folder of images")
    arrays = []
    for f in files:
        a = read_image(f, rgb=True, size=size)
        if a is None:
            raise BadValue(f"--input: {f} is not a readable image")
        arrays.append(a)
    return to_model_range(torch.from_numpy(np.stack(arrays)), channels, size), [f.stem for f in files]


def inputs_from_bytes(blobs: list[bytes], channels: int, size: int) -> torch.Tensor:
    """Uploaded files (the Translate page) as the run's input; an unreadable one is a ValueError."""
    arrays = []
    for i, blob in enumerate(blobs):
        try:
            with Image.open(io.BytesIO(blob)) as im:
                im = im.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
                arrays.append(np.asarray(im, dtype=np.uint8).transpose(2, 0, 1))
        except Exception:  # noqa: BLE001 - not an image, truncated: said in one line
            raise BadValue(f"upload {i + 1} is not a readable image") from None
    return to_model_range(torch.from_numpy(np.stack(arrays)), channels, size)

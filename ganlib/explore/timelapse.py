"""Timelapse: a run's fixed-noise grids across epochs as an animated GIF or an MP4, each frame
labelled with its epoch on a white band above the grid.

    from ganlib.explore.timelapse import timelapse_gif, timelapse_mp4
    Path("run.gif").write_bytes(timelapse_gif(run))
    Path("run.mp4").write_bytes(timelapse_mp4(run))     # H.264 through PyAV, which ships FFmpeg

    python -m ganlib timelapse 00003-mlp_gan-mnist5k --out run.gif [--fps 4] [--scale 2]

Every grid of a run uses the same latents (`Run.samples()`), so the animation shows one set of
digits slowly forming.
"""
from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Optional

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ganlib.core.errors import NotFound
from ganlib.store.run_folder import Run, find_run

MAX_FRAMES = 500  # a longer run is thinned to about this many evenly spaced grids


def band_height(grid_height: int) -> int:
    """Height of the text band above a grid: readable, never more than 36 pixels."""
    return min(36, max(16, grid_height // 16))


def label_frame(grid: Image.Image, text: str, band: Optional[int] = None) -> Image.Image:
    """`grid` with a white band above it holding `text` in PIL's default font."""
    grid = grid.convert("L") if grid.mode in ("L", "1", "P", "LA") else grid.convert("RGB")
    band = band or band_height(grid.height)
    out = Image.new(grid.mode, (grid.width, grid.height + band), 255 if grid.mode == "L" else (255, 255, 255))
    out.paste(grid, (0, band))
    draw = ImageDraw.Draw(out)
    font = _font(int(band * 0.7))
    x = max(2, band // 4)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    if right - left > out.width - 2 * x and "   " in text:  # too narrow for the run's name: keep the epoch
        text = text.rsplit("   ", 1)[1]
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    y = (band - (bottom - top)) // 2 - top
    draw.text((x, y), text, fill=0 if grid.mode == "L" else (0, 0, 0), font=font)
    return out


def _font(size: int):
    try:
        return ImageFont.load_default(size=max(8, size))  # scalable when Pillow has FreeType
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def frames(run: str | Path | Run, *, scale: int = 1, max_frames: int = MAX_FRAMES) -> list[tuple[int, Image.Image]]:
    """(epoch, labelled frame) for each sample grid of the run, oldest first."""
    run = run if isinstance(run, Run) else find_run(run)
    grids = run.samples()
    if not grids:
        raise NotFound(f"run {run.name} has no sample grids yet")
    if len(grids) > max_frames:  # keep the first and the last, evenly in between
        keep = sorted(set(np.linspace(0, len(grids) - 1, max_frames).round().astype(int).tolist()))
        grids = [grids[i] for i in keep]
    last = grids[-1][0]
    out = []
    size = None
    for epoch, path in grids:
        with Image.open(path) as im:
            im.load()
            grid = im.copy()
        size = size or grid.size
        if grid.size != size:  # never within one run, but a resized grid must not break the GIF
            grid = grid.resize(size, Image.Resampling.NEAREST)
        if scale > 1:
            grid = grid.resize((grid.width * scale, grid.height * scale), Image.Resampling.NEAREST)
        out.append((epoch, label_frame(grid, f"{run.name}   epoch {epoch} / {last}")))
    return out


def timelapse_gif(run: str | Path | Run, *, fps: float = 4.0, hold_last_s: float = 1.5, scale: int = 1) -> bytes:
    """An endlessly looping GIF, one frame per grid; the last frame stays up a little longer."""
    ims = [im for _, im in frames(run, scale=scale)]
    step = max(20, int(round(1000 / fps)))  # browsers treat < 20 ms as 100 ms
    durations = [step] * len(ims)
    durations[-1] = max(step, int(hold_last_s * 1000))
    buf = io.BytesIO()
    ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=durations, loop=0,
                disposal=1, optimize=False)
    return buf.getvalue()


def timelapse_mp4(run: str | Path | Run, *, fps: float = 4.0, scale: int = 2) -> bytes:
    """An H.264 MP4 (yuv420p, so every player shows it), one frame per grid."""
    rgb = [np.asarray(_even(im.convert("RGB"))) for _, im in frames(run, scale=scale)]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as box:
        stream = box.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.height, stream.width = rgb[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for arr in rgb:
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                box.mux(packet)
        for packet in stream.encode():
            box.mux(packet)
    return buf.getvalue()


def _even(im: Image.Image) -> Image.Image:
    """yuv420p needs even sides: pad with white."""
    w, h = im.width + im.width % 2, im.height + im.height % 2
    if (w, h) == im.size:
        return im
    out = Image.new("RGB", (w, h), (255, 255, 255))
    out.paste(im, (0, 0))
    return out


# file suffix -> encoder(run, fps=, scale=) -> bytes
FORMATS = {".gif": timelapse_gif, ".mp4": timelapse_mp4}

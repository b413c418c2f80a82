"""Image files: which files under a folder count, and the one reader that every dataset, the
inspector, the previews and the FID folder statistics use.

    files = image_files(Path("fakes"))                      # subfolders included, hidden files left out
    a = read_image(files[0])                                # uint8 (C, H, W), C = 1 or 3; None if unreadable
    a = read_image(path, ReadOptions(size=64, channels=3))  # what a dataset stores: 64 x 64 colour
    h = peek(path)                                          # size, mode, alpha... without decoding pixels

Reading right: EXIF orientation is applied (a phone photo stands upright); transparency (an
alpha channel, or a palette or gray image with a transparent colour) is composited over the
`background` (white unless asked otherwise), never dropped (dropping it turns most icons into
black squares); CMYK and the other colour spaces become RGB; 16-bit and float images are scaled
to 8 bits (`to_8bit`), never clipped. A non-square image is brought to a square by
`resize_mode`: `crop` (the centre square, the default), `pad` (the whole image on the
background) or `stretch`. Resampling is Lanczos (antialiased; large images are first reduced by
whole factors, `reducing_gap`, which is faster and looks the same).

A file PIL cannot read (not an image, truncated, a decompression bomb, smaller than MIN_SIDE
pixels when a size is asked for) gives None rather than an exception, so a caller can count
what it skipped, and why, and carry on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional, Union

import numpy as np
from PIL import Image, ImageOps

from ganlib.core.errors import BadValue

# Modes read as one gray channel unless colour is asked for. Gray stays one channel so the digit
# classifier sees the exact pixel values; the Inception extractor repeats it over 3 channels.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0)}
RESIZE_MODES = ("crop", "pad", "stretch")
MIN_SIDE = 8  # an image smaller than this on a side is skipped when a size is asked for: it holds no picture
RESAMPLE = Image.Resampling.LANCZOS
REDUCING_GAP = 3.0
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
Source = Union[Path, str, IO[bytes]]


def parse_background(text: str) -> tuple[int, int, int]:
    """"white", "black", "#rrggbb" or "r,g,b" -> an RGB triple; ValueError saying what is accepted."""
    t = str(text).strip().lower()
    if t in BACKGROUNDS:
        return BACKGROUNDS[t]
    m = _HEX.match(t)
    if m:
        v = int(m.group(1), 16)
        return (v >> 16) & 255, (v >> 8) & 255, v & 255
    parts = t.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() and int(p) <= 255 for p in parts):
        r, g, b = (int(p) for p in parts)
        return r, g, b
    raise BadValue(f"background must be white, black, a colour #rrggbb or r,g,b (0-255 each), got {text!r}")


@dataclass(frozen=True)
class ReadOptions:
    """How files become training images; every field changes the pixels, so packs and caches key on all."""
    size: Optional[int] = None  # square side in pixels; None keeps each file's own size (no resize_mode)
    channels: Optional[int] = None  # 1 or 3; None: 1 for gray files, 3 for the rest
    background: str = "white"  # what transparent pixels (and pad's borders) become
    resize_mode: str = "crop"  # crop | pad | stretch: how a non-square image becomes a square

    def __post_init__(self):
        parse_background(self.background)
        if self.resize_mode not in RESIZE_MODES:
            raise BadValue(f"resize_mode must be one of {', '.join(RESIZE_MODES)}, got {self.resize_mode!r}")
        if self.channels not in (None, 1, 3):
            raise BadValue(f"channels must be 1 or 3, got {self.channels}")


def image_files(root: Path) -> list[Path]:
    """Every file under `root`, subfolders included, hidden files and folders left out, sorted."""
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def read_image(path: Source, options: Optional[ReadOptions] = None, *, rgb: bool = False, size: Optional[int] = None,
               reasons: Optional[list[str]] = None, name: Optional[str] = None) -> Optional[np.ndarray]:
    """uint8 (C, H, W) as `options` say (`rgb=True` and `size=` are shorthands for
    ReadOptions(channels=3) and ReadOptions(size=...)); None when the file cannot be read, with
    "name: reason" appended to `reasons` when given (`name` defaults to the file's name)."""
    opts = options or ReadOptions(size=size, channels=3 if rgb else None)
    try:
        with Image.open(path) as im:
            a = np.asarray(_decoded(im, opts), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001 - not an image, truncated, a decompression bomb: skipped and counted
        if reasons is not None:
            reasons.append(f"{name or _name(path)}: {' '.join(str(e).split())[:120] or type(e).__name__}")
        return None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def _name(path: Source) -> str:
    return Path(path).name if isinstance(path, (str, Path)) else getattr(path, "name", "") or "image"


def _decoded(im: Image.Image, opts: ReadOptions) -> Image.Image:
    if opts.size is not None and im.format == "JPEG":
        im.draft(None, (opts.size, opts.size))  # decode a large photo at a reduced scale (>= size), much faster
    im = ImageOps.exif_transpose(im)
    if opts.size is not None and min(im.size) < MIN_SIDE:
        raise ValueError(f"{im.width}x{im.height} is too small (under {MIN_SIDE} px a side)")
    im = to_8bit(im)
    bg = parse_background(opts.background)
    gray = opts.channels == 1 or (opts.channels is None and im.mode in GRAY_MODES)
    if has_alpha(im):
        flat = Image.new("RGBA", im.size, (*bg, 255))
        im = Image.alpha_composite(flat, im.convert("RGBA"))
        if opts.channels is None and len(set(bg)) > 1:
            gray = False  # a gray image on a coloured background has colour; on a gray one it stays gray
    im = im.convert("L" if gray else "RGB")
    return im if opts.size is None else squared(im, opts.size, opts.resize_mode, bg)


def has_alpha(im: Image.Image) -> bool:
    """An alpha channel, or a palette/gray/RGB image with a colour declared transparent."""
    return im.mode in ALPHA_MODES or (im.mode in ("P", "L", "RGB", "1") and "transparency" in im.info)


def squared(im: Image.Image, size: int, mode: str, bg: tuple[int, int, int]) -> Image.Image:
    """`im` as a size x size square: the centre square (crop), the whole image on the background
    (pad), or stretched."""
    w, h = im.size
    if (w, h) == (size, size):
        return im
    if mode == "stretch" or w == h:
        return im.resize((size, size), RESAMPLE, reducing_gap=REDUCING_GAP)
    if mode == "crop":
        side = min(w, h)
        left, top = (w - side) / 2, (h - side) / 2
        return im.resize((size, size), RESAMPLE, box=(left, top, left + side, top + side), reducing_gap=REDUCING_GAP)
    scale = size / max(w, h)
    inner = (max(1, round(w * scale)), max(1, round(h * scale)))
    canvas = Image.new(im.mode, (size, size), bg[0] if im.mode == "L" else bg)
    at = ((size - inner[0]) // 2, (size - inner[1]) // 2)
    canvas.paste(im.resize(inner, RESAMPLE, reducing_gap=REDUCING_GAP), at)
    return canvas


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says, read without decoding its pixels."""
    width: int  # as displayed: after the EXIF orientation
    height: int
    mode: str
    format: str
    alpha: bool
    sixteen_bit: bool
    palette: bool
    cmyk: bool
    colour: bool  # not a gray mode (a gray image composited on a coloured background is colour too)


def peek(path: Source) -> ImageHeader:
    """The header facts of an image file (raises what PIL raises for a non-image, a decompression
    bomb, or a PNG whose chunks fail their checksums)."""
    with Image.open(path) as im:
        w, h = im.size
        mode, fmt, info = im.mode, im.format or "?", dict(im.info)
        if fmt == "PNG":
            im.verify()  # chunk checksums: a truncated or damaged PNG is found without decoding it
        else:
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientation: a quarter turn
                    w, h = h, w
            except Exception:  # noqa: BLE001 - a damaged EXIF block: the pixels may still read
                pass
    alpha = mode in ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and "transparency" in info)
    return ImageHeader(w, h, mode, fmt, alpha, mode.startswith("I;16") or mode in ("I", "F"), mode in ("P", "PA"),
                       mode == "CMYK", mode not in GRAY_MODES)


def to_8bit(im: Image.Image) -> Image.Image:
    """An 8-bit image of a 16-bit or float one, scaled rather than clipped (PIL's own
    convert("L") clips 16-bit values, so nearly every pixel turns white): 16-bit integers
    0..65535 map to 0..255; 32-bit integers too, unless all lie in 0..255 already; floats in
    [0, 1] or [0, 255] are scaled accordingly, and any other float range is refused."""
    if im.mode not in ("I", "F") and not im.mode.startswith("I;16"):
        return im
    a = np.asarray(im).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError("float pixels include NaN or inf")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if im.mode == "F":
        if lo < 0 or hi > 255:
            raise ValueError(f"float pixels range from {lo:g} to {hi:g}; only [0, 1] or [0, 255] can be read")
        scale = 255.0 if hi <= 1.0 else 1.0
    else:
        if lo < 0 or hi > 65535:
            raise ValueError(f"integer pixels range from {lo:g} to {hi:g}; only 8- and 16-bit values can be read")
        scale = 1.0 if im.mode == "I" and hi <= 255 else 255.0 / 65535.0
    out = Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8), "L")
    if "transparency" in im.info:  # a 16-bit gray PNG's transparent value, scaled the same way
        t = im.info["transparency"]
        if isinstance(t, int):
            out.info["transparency"] = int(np.clip(np.rint(t * scale), 0, 255))
    return out

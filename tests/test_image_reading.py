"""Issue 21, item 1: the one reader reads every kind of file right, each case against a
hand-made image whose right answer is known."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganlib.data.image_files import ReadOptions, parse_background, peek, read_image
from tests.helpers import png_claiming


def rgba_icon(path: Path) -> Path:
    """A 40x40 transparent square with an opaque red 20x20 centre (the classic icon)."""
    a = np.zeros((40, 40, 4), np.uint8)
    a[10:30, 10:30] = [255, 0, 0, 255]
    Image.fromarray(a, "RGBA").save(path)
    return path


def test_transparency_is_composited_over_the_background_not_read_black(tmp_path):
    f = rgba_icon(tmp_path / "icon.png")
    white = read_image(f, ReadOptions(size=40))
    assert white.shape == (3, 40, 40)
    assert (white[:, 0, 0] == 255).all() and tuple(white[:, 20, 20]) == (255, 0, 0)  # corner white, centre red
    black = read_image(f, ReadOptions(size=40, background="black"))
    assert (black[:, 0, 0] == 0).all() and tuple(black[:, 20, 20]) == (255, 0, 0)
    blue = read_image(f, ReadOptions(size=40, background="#0000ff"))
    assert tuple(blue[:, 0, 0]) == (0, 0, 255)
    half = np.zeros((8, 8, 4), np.uint8)
    half[..., 1], half[..., 3] = 255, 128  # green at half opacity
    Image.fromarray(half, "RGBA").save(tmp_path / "half.png")
    mixed = read_image(tmp_path / "half.png", ReadOptions(size=8))
    assert np.abs(mixed[:, 4, 4].astype(int) - [127, 255, 127]).max() <= 1  # halfway between white and green


def test_palette_and_gray_images_with_a_transparent_colour_composite_too(tmp_path):
    p = Image.new("P", (16, 16), 0)
    p.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    p.paste(1, (4, 4, 12, 12))
    p.save(tmp_path / "pal.png", transparency=0)  # palette entry 0 (black) is transparent
    a = read_image(tmp_path / "pal.png", ReadOptions(size=16))
    assert tuple(a[:, 0, 0]) == (255, 255, 255) and tuple(a[:, 8, 8]) == (200, 30, 30)
    la = np.zeros((16, 16, 2), np.uint8)
    la[4:12, 4:12] = [60, 255]
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    g = read_image(tmp_path / "la.png", ReadOptions(size=16))
    assert g.shape == (1, 16, 16) and g[0, 0, 0] == 255 and g[0, 8, 8] == 60  # gray on white stays one channel
    assert read_image(tmp_path / "la.png", ReadOptions(size=16, background="#ff0000")).shape[0] == 3


def test_exif_orientation_stands_a_phone_photo_upright(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # landscape as stored: left half red, right half blue
    stored[:, :20] = [255, 0, 0]
    stored[:, 20:] = [0, 0, 255]
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the camera was held upright
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    a = read_image(tmp_path / "phone.jpg")
    assert a.shape == (3, 40, 20)  # portrait, as the photo was taken
    assert a[0, 5, 10] > 200 and a[2, 5, 10] < 60  # the stored left (red) is now on top
    assert a[2, 35, 10] > 200 and a[0, 35, 10] < 60
    assert (peek(tmp_path / "phone.jpg").width, peek(tmp_path / "phone.jpg").height) == (20, 40)


def test_cmyk_and_16_bit_images_are_converted_not_clipped(tmp_path):
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "red.jpg")  # no cyan, full magenta + yellow
    a = read_image(tmp_path / "red.jpg", ReadOptions(size=8))
    assert a.shape == (3, 8, 8) and a[0].mean() > 220 and a[1].mean() < 40 and a[2].mean() < 40
    gray16 = np.full((32, 32), 32768, np.uint16)
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    g = read_image(tmp_path / "g16.png", ReadOptions(size=16, channels=3))
    assert g.shape == (3, 16, 16) and abs(int(g.mean()) - 128) <= 1  # scaled to 8 bits, not clipped to white
    assert peek(tmp_path / "g16.png").sixteen_bit and peek(tmp_path / "red.jpg").cmyk


def three_bands(path: Path) -> Path:
    """40 wide, 20 high: red | green (the centre 20 columns) | blue."""
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :10], a[:, 10:30], a[:, 30:] = [255, 0, 0], [0, 255, 0], [0, 0, 255]
    Image.fromarray(a).save(path)
    return path


def test_crop_pad_and_stretch_bring_a_wide_image_to_a_square(tmp_path):
    f = three_bands(tmp_path / "wide.png")
    crop = read_image(f, ReadOptions(size=20))  # the default: the centre square, all green
    assert (crop[1] == 255).all() and (crop[0] == 0).all() and (crop[2] == 0).all()
    pad = read_image(f, ReadOptions(size=20, resize_mode="pad", background="black"))
    assert (pad[:, :4] == 0).all() and (pad[:, -4:] == 0).all()  # black bands above and below
    assert tuple(pad[:, 10, 0]) == (255, 0, 0) and tuple(pad[:, 10, 10]) == (0, 255, 0)  # the whole width shows
    stretch = read_image(f, ReadOptions(size=20, resize_mode="stretch"))
    assert tuple(stretch[:, 0, 1]) == (255, 0, 0) and tuple(stretch[:, 19, 18]) == (0, 0, 255)  # full height
    assert tuple(stretch[:, 10, 10]) == (0, 255, 0)


def test_the_resampling_is_antialiased(tmp_path):
    checker = ((np.indices((64, 64)).sum(0) % 2) * 255).astype(np.uint8)  # 1-pixel checkerboard
    Image.fromarray(checker).save(tmp_path / "checker.png")
    a = read_image(tmp_path / "checker.png", ReadOptions(size=8)).astype(int)
    assert np.abs(a - 128).max() <= 3  # an even gray, not an aliased pattern of black and white


def test_bombs_tiny_images_and_junk_are_skipped_with_the_reason(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_claiming(20_000, 20_000))
    Image.new("RGB", (1, 1), (9, 9, 9)).save(tmp_path / "dot.png")
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    reasons: list[str] = []
    for name in ("bomb.png", "dot.png", "notes.png"):
        assert read_image(tmp_path / name, ReadOptions(size=16), reasons=reasons) is None
    assert reasons[0].startswith("bomb.png: ") and "decompression bomb" in reasons[0]
    assert reasons[1] == "dot.png: 1x1 is too small (under 8 px a side)"
    assert reasons[2].startswith("notes.png: cannot identify image file")


def test_backgrounds_are_named_colours_hex_or_rgb():
    assert parse_background("white") == (255, 255, 255) and parse_background("#102030") == (16, 32, 48)
    assert parse_background(" 1,2,3 ") == (1, 2, 3)
    for bad in ("pink", "#12345", "1,2", "300,0,0"):
        with pytest.raises(ValueError, match="background must be white, black, a colour"):
            parse_background(bad)
    with pytest.raises(ValueError, match="resize_mode must be one of crop, pad, stretch"):
        ReadOptions(resize_mode="fit")

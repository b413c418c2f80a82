"""What several test files share: loading a benchmark script as a module, opening and running a
page under Streamlit's AppTest with its exceptions surfaced, and a PNG that lies about its size."""
from __future__ import annotations

import importlib.util
import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str):
    """benchmarks/NAME.py as a module (the folder is no package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def page(path: str, timeout: float = 60) -> AppTest:
    return AppTest.from_file(str(REPO / path), default_timeout=timeout)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says width x height (a decompression bomb's), with a tiny, wrong, image
    stream: a reader must refuse it from the header, before decoding a pixel."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    struct.pack_into(">II", data, ihdr + 4, width, height)
    struct.pack_into(">I", data, ihdr + 17, zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    return bytes(data)

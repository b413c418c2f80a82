"""What several test files share: loading a benchmark script as a module, opening a page the
way the dashboard does (through `app.py`'s navigation) under Streamlit's AppTest with its
exceptions surfaced, reading what a page shows, the one reference FID, and a PNG that lies about
its size."""
from __future__ import annotations

import importlib.util
import io
import json
import re
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import scipy.linalg
from PIL import Image
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
TINY = dict(max_images=256, batch_size=64, device="cpu")  # 4 steps an epoch on 256 real digits


def eventually(pred, timeout: float = 60.0) -> bool:
    """True once `pred()` is, polling every 50 ms; False after `timeout` seconds."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def load_script(name: str, folder: str = "benchmarks"):
    """FOLDER/NAME.py (a benchmark, or a reliability tool in reliability/) as a module."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", REPO / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def rezip(members: dict[str, bytes]) -> bytes:
    """A zip of `members` (name -> bytes): a run zip taken apart and put back, changed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


# ---- the reference FID ----------------------------------------------------------------------------
def reference_fid(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """pytorch-fid's calculate_frechet_distance: scipy's sqrtm of the product, real part. The one
    independent reference every FID in the tests is held to."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def reference_fid_of(f1: np.ndarray, f2: np.ndarray) -> float:
    """The reference FID of two feature sets (moments in float64, unbiased covariance)."""
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    return reference_fid(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))


# ---- pages ----------------------------------------------------------------------------------------
def page(path: str, timeout: float = 60) -> AppTest:
    """The page at `path`, opened through `app.py` as the sidebar opens it (its navigation is
    built from `ganlib.ui.navigation.PAGES`): a page the navigation does not know fails here."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    if path != "app_pages/home.py":
        # AppTest finds a page by its st.Page address only once the navigation has run once (its
        # first run opens Home, the default page), as a browser's first visit does.
        run(at)
        at.switch_page(path)
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def job_state(at: AppTest) -> str | None:
    m = re.search(r"State: \*\*(\w+)\*\*", texts(at.markdown))
    return m.group(1) if m else None


def wait_for(at: AppTest, pred, what: str, timeout: float = 90) -> AppTest:
    """Rerun the page (as the live fragment would) until `pred(at)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run(at)
        if pred(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; job state {job_state(at)}, "
                                 f"errors {texts(at.error)!r}")
        time.sleep(0.3)


def set_tiny_config(at: AppTest, **over) -> AppTest:
    values = {"max_images": 256, "batch_size": 64, "epochs": 2, **over}
    for name, v in values.items():
        at.number_input(key=f"cfg_{name}").set_value(v)
    at.selectbox(key="cfg_device").set_value("cpu")
    return run(at)


def watch(at: AppTest, run_name: str) -> AppTest:
    """Open the Train page's live view on a run of the runs folder."""
    at.segmented_control(key="train_mode").set_value("Live view")
    run(at)
    at.selectbox(key="train_watch").set_value(run_name)
    return run(at)


def boxes(at: AppTest) -> dict[str, list[str]]:
    """The page's coloured boxes by level (the health verdict is one of them)."""
    return {"success": [b.value for b in at.success], "info": [b.value for b in at.info],
            "warning": [b.value for b in at.warning], "error": [b.value for b in at.error]}


def _title(spec: dict) -> str:
    return spec["layout"].get("title", {}).get("text", "")


def chart_titles(at: AppTest) -> list[str]:
    return [_title(json.loads(c.proto.spec)) for c in at.get("plotly_chart")]


def chart(at: AppTest, title_start: str) -> dict:
    (spec,) = [s for s in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
               if _title(s).startswith(title_start)]
    return spec


def widget_keys(at: AppTest) -> set[str]:
    lists = [at.selectbox, at.slider, at.select_slider, at.number_input, at.checkbox, at.text_input]
    return {w.key for lst in lists for w in lst if w.key}


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

"""What several test files share: loading a benchmark script as a module, and opening and
running a page under Streamlit's AppTest with its exceptions surfaced."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str, folder: str = "benchmarks"):
    """FOLDER/NAME.py (a benchmark, or a reliability tool in reliability/) as a module."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", REPO / folder / f"{name}.py")
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

"""How long each dashboard page takes to load the first time, measured with Streamlit's
AppTest in a fresh process per page (so no page profits from another's imports or caches),
against a runs folder with two tiny finished runs. Writes "## Page first loads" in docs/PERF.md.

    python benchmarks/page_loads.py                 # every page
    python benchmarks/page_loads.py --pages playground compare_runs   # these pages (file names)

The figure is the wall time of `AppTest.run()` for the page's first script run, opened through
app.py's navigation as the sidebar opens it (imports included), the median of --repeats fresh
processes. The pages are the navigation's list (`ganlib.ui.navigation.PAGES`).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, write_perf  # noqa: E402

SECTION = "## Page first loads"
ONE_PAGE = """
import json, sys, time
from streamlit.testing.v1 import AppTest
t0 = time.perf_counter()
at = AppTest.from_file("app.py", default_timeout=120)
if sys.argv[1] != "app_pages/home.py":
    at.switch_page(sys.argv[1])
at.run()
print(json.dumps({"s": time.perf_counter() - t0, "exceptions": [str(e.value)[:200] for e in at.exception]}))
"""
MAKE_RUNS = """
import sys
from ganlib.engine.training import train
from ganlib.store.config import TrainConfig
for model in ("mlp_gan", "cgan"):
    train(TrainConfig(model=model, loss="nonsaturating", epochs=2, max_images=256, batch_size=64, device="cpu",
                      eval_every=1, eval_samples=256, checkpoint_every=1), runs_dir=sys.argv[1])
"""


def pages(names: Sequence[str]) -> list[Path]:
    """The navigation's pages, Home first, or those whose file stems are `names`."""
    from ganlib.ui.navigation import PAGES  # streamlit: only when the pages are listed

    found = [ROOT / spec.path for spec in PAGES]
    return [p for p in found if not names or p.stem in names]


def load_time(page: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", ONE_PAGE, str(page)], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", nargs="*", default=[], help="page file stems (default: all, Home included)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--load", default="", help="how busy the machine was, for the table's note")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "PERF.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="page-loads-") as runs:
        env = {**os.environ, "GANLIB_RUNS_DIR": runs, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", MAKE_RUNS, runs], cwd=ROOT, env=env, check=True, capture_output=True)
        rows = []
        for page in pages(args.pages):
            results = [load_time(page, env) for _ in range(args.repeats)]
            rows.append((page.relative_to(ROOT).as_posix(), statistics.median(r["s"] for r in results),
                         max(r["s"] for r in results), results[-1]["exceptions"]))
            print(f"{rows[-1][0]:32s} {rows[-1][1]:6.2f} s (max {rows[-1][2]:.2f})", flush=True)
    load = f" Machine: {args.load}." if args.load else ""
    body = "\n".join([
        f"`{command_line(__file__, argv)}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). First script run "
        f"of each page in a fresh process (imports included), median of {args.repeats}, with two tiny finished runs "
        f"in the runs folder.{load} The target is under 3 s on an idle machine.", "",
        "| page | median (s) | max (s) | exceptions |", "| --- | --- | --- | --- |",
        *[f"| `{name}` | {med:.2f} | {mx:.2f} | {'; '.join(exc) or '-'} |" for name, med, mx, exc in rows]])
    print(body)
    if not args.no_write:
        write_perf(args.out, SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())

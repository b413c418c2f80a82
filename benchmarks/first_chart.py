"""Seconds from pressing Start (defaults, in a real browser) to the first chart on the page: the
"curves move within seconds" half of the first-minute promise, as a user meets it.

    python benchmarks/first_chart.py                 # 3 presses, each in a fresh server
    python benchmarks/first_chart.py --repeats 1 --json first_chart.json

Each repeat starts `streamlit run app.py` on a fresh runs folder, opens Train in Debian's
chromium (Playwright with `executable_path`, as tests/test_browser.py), presses Start
training and polls every 50 ms for: the run's `config.json` (the job has prepared its data
and models), the first row of its `stream.csv` (the engine's first running means) and the
first Plotly chart on the page. Wall times: run it on an idle machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import chromium_page, serve  # noqa: E402

MARKS = ("config", "stream_row", "chart")


def _stream_rows(runs: Path) -> int:
    files = list(runs.glob("*/stream.csv"))
    return sum(1 for _ in files[0].open()) - 1 if files else 0


def one_press(timeout_s: float) -> dict[str, float]:
    """The seconds from the click to each mark (missing: not reached within `timeout_s`)."""
    runs = Path(tempfile.mkdtemp(prefix="first-chart-"))
    marks: dict[str, float] = {}
    with serve(runs) as url, chromium_page() as page:
        page.goto(f"{url}/Train")
        start = page.get_by_role("button", name="Start training")
        expect(start).to_be_enabled(timeout=120_000)
        page.wait_for_timeout(1000)  # let the form settle, as a user reads it
        start.click()
        t0 = time.time()
        while time.time() - t0 < timeout_s and "chart" not in marks:
            now = time.time() - t0
            if "config" not in marks and list(runs.glob("*/config.json")):
                marks["config"] = now
            if "stream_row" not in marks and _stream_rows(runs) > 0:
                marks["stream_row"] = now
            if page.locator('[data-testid="stPlotlyChart"]').count() > 0:
                marks["chart"] = now
            page.wait_for_timeout(50)
    return marks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout-s", type=float, default=60.0)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.timeout_s <= 0:
        ap.error("need --repeats >= 1 and a positive --timeout-s")
    presses = []
    for i in range(args.repeats):
        marks = one_press(args.timeout_s)
        presses.append(marks)
        print(f"press {i}: " + ", ".join(f"{k} {marks[k]:.2f} s" if k in marks else f"{k} > {args.timeout_s:g} s"
                                          for k in MARKS), flush=True)
    medians = {k: statistics.median([m[k] for m in presses]) for k in MARKS if all(k in m for m in presses)}
    print("median: " + ", ".join(f"{k} {v:.2f} s" for k, v in medians.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"presses": presses, "median_s": medians}, indent=1))
    return 0 if "chart" in medians else 1


if __name__ == "__main__":
    raise SystemExit(main())

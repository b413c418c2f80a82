"""What a user waits for on each page, in a real browser (Debian's chromium at 1400 x 1000):
the first load of every page, Real or fake's next image after an answer, and whether Home's
runs table fits the window. Writes "## Pages in the browser" in docs/PERF.md.

    python benchmarks/browser_pages.py
    python benchmarks/browser_pages.py --pages playground compare_runs --no-write

One server (`streamlit run app.py`) on a runs folder with two tiny finished runs; Home is
opened first in a fresh server (torch and the app's imports load then), every other page in
a new tab (a new session) after it, so each page's figure is its own script run and drawing.
A page is loaded when its title is drawn and Streamlit's running indicator is gone. Wall
times: run it on an idle machine.
"""
from __future__ import annotations

import argparse
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

from benchmarks.browser import chromium_page, serve, wait_idle  # noqa: E402
from benchmarks.harness import command_line, write_perf  # noqa: E402
from benchmarks.page_loads import MAKE_RUNS, pages  # noqa: E402

SECTION = "## Pages in the browser"
TABLE_FITS_JS = """() => {
  const grid = document.querySelector('[data-testid="stDataFrame"] .dvn-scroller');
  return grid ? {scroll: grid.scrollWidth, client: grid.clientWidth} : null;
}"""


def url_path(page: Path) -> str:
    """The page's address in the navigation (Home: the root)."""
    from ganlib.ui.navigation import BY_PATH  # streamlit: only in the browser benchmark

    return BY_PATH[page.relative_to(ROOT).as_posix()].url_path


def load_page(browser_page, url: str, page: Path) -> dict:
    t0 = time.perf_counter()
    browser_page.goto(f"{url}/{url_path(page)}")
    browser_page.locator("h1").first.wait_for(state="visible")
    wait_idle(browser_page)
    seconds = time.perf_counter() - t0
    return {"s": seconds, "exceptions": browser_page.locator('[data-testid="stException"]').count()}


def real_or_fake(browser_page, url: str, answers: int) -> list[float]:
    """Seconds from each click on Real to the next image's counter."""
    browser_page.goto(f"{url}/Real_or_fake")
    browser_page.get_by_role("button", name="Start a round").click()
    browser_page.get_by_text("Image 1 of").wait_for()
    wait_idle(browser_page)
    waits = []
    for k in range(1, answers + 1):
        t0 = time.perf_counter()
        browser_page.locator(".st-key-rof_real button").click()
        browser_page.get_by_text(f"Image {k + 1} of").wait_for()
        waits.append(time.perf_counter() - t0)
        wait_idle(browser_page)
    return waits


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", nargs="*", default=[], help="page file stems (default: all; Home always first)")
    p.add_argument("--answers", type=int, default=10, help="Real or fake answers timed")
    p.add_argument("--load", default="", help="how busy the machine was, for the note")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "PERF.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="browser-pages-") as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        env = {**os.environ, "GANLIB_RUNS_DIR": str(runs), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", MAKE_RUNS, str(runs)], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        todo = [ROOT / "app_pages/home.py"] + [pg for pg in pages(args.pages) if pg.name != "home.py"]
        rows, table = [], None
        with serve(runs) as url, chromium_page() as first:
            for page in todo:
                tab = first if page.name == "home.py" else first.context.browser.new_page(viewport=first.viewport_size)
                r = load_page(tab, url, page)
                fits = None
                if page.name == "home.py":  # the table's grid is drawn after the script run
                    tab.locator('[data-testid="stDataFrame"] .dvn-scroller').wait_for()
                    fits = tab.evaluate(TABLE_FITS_JS)
                rows.append((page.relative_to(ROOT).as_posix(), r["s"], r["exceptions"]))
                if fits is not None:
                    table = fits
                print(f"{rows[-1][0]:32s} {r['s']:6.2f} s, {r['exceptions']} exception boxes", flush=True)
                if tab is not first:
                    tab.close()
            rof_tab = first.context.browser.new_page(viewport=first.viewport_size)
            waits = real_or_fake(rof_tab, url, args.answers) if args.answers else []
    fits_text = ("no runs table found" if table is None else
                 f"{'fits' if table['scroll'] <= table['client'] + 1 else 'does NOT fit'} "
                 f"(content {table['scroll']} px in {table['client']} px)")
    rof = (f"Real or fake, from a click on **Real** to the next image's counter over {len(waits)} answers: "
           f"median {statistics.median(waits):.2f} s, max {max(waits):.2f} s." if waits else "")
    load = f" Machine: {args.load}." if args.load else ""
    body = "\n".join([
        f"`{command_line(__file__, argv)}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). Chromium at "
        "1400 x 1000, one server with two tiny finished runs; Home first in the fresh server (imports included), "
        f"then each page in a new tab, loaded when its title is drawn and the script run has ended.{load} "
        "The target is under 3 s per page on an idle machine.", "",
        f"Home's runs table at 1400 px: {fits_text}. {rof}", "",
        "| page | first load (s) | exception boxes |", "| --- | --- | --- |",
        *[f"| `{name}` | {s:.2f} | {exc} |" for name, s, exc in rows]])
    print(body)
    if not args.no_write:
        write_perf(args.out, SECTION, body)
    return 1 if any(exc for *_, exc in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

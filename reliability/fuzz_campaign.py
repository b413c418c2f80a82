"""A longer fuzz campaign: the properties of tests/test_fuzz.py (importer, config parser, image
reader, run-folder CSV/JSON readers) with thousands of random examples each instead of CI's 25
derandomized ones, and the outcome written to docs/RELIABILITY.md ("## Fuzz campaign").

    python reliability/fuzz_campaign.py                      # 2,000 examples per property
    python reliability/fuzz_campaign.py --examples 200 --no-write

A property that fails prints hypothesis' shrunk falsifying example; the section lists it. Each
property asserts "a clear refusal or a valid result, never another exception".
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python reliability/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, write_perf  # noqa: E402

SECTION = "## Fuzz campaign"


def run_campaign(examples: int, pattern: str = "") -> tuple[list[dict], float]:
    """Run the properties in a pytest subprocess; one dict per property (name, outcome, time, message)."""
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d) / "fuzz.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py"),
               f"--junitxml={xml}", "--hypothesis-show-statistics"] + (["-k", pattern] if pattern else [])
        env = {**os.environ, "GANLIB_FUZZ_EXAMPLES": str(examples)}
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        wall = time.perf_counter() - t0
        results = []
        for case in ET.parse(xml).getroot().iter("testcase"):
            failure = case.find("failure") if case.find("failure") is not None else case.find("error")
            message = ""
            if failure is not None:
                text = (failure.get("message") or "") + "\n" + (failure.text or "")
                keep = [ln for ln in text.splitlines() if "Falsifying" in ln or "Error" in ln or "assert" in ln]
                message = " | ".join(ln.strip() for ln in keep[:4])[:400]
            results.append({"name": case.get("name"), "time_s": float(case.get("time", 0)),
                            "outcome": "found a failure" if failure is not None else "held", "message": message})
    return results, wall


def section(results: list[dict], examples: int, wall: float, command: str) -> str:
    held = sum(r["outcome"] == "held" for r in results)
    lines = [f"`{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {wall:.0f} s wall on a "
             "CPU shared with other jobs): each property of `tests/test_fuzz.py` with "
             f"{examples:,} random examples (CI runs 25, derandomized). {held} of {len(results)} held.", "",
             "| property | examples | time (s) | outcome |", "| --- | --- | --- | --- |"]
    for r in results:
        outcome = r["outcome"] + (f": {r['message']}" if r["message"] else "")
        lines.append(f"| `{r['name']}` | {examples:,} | {r['time_s']:.0f} | {outcome.replace('|', '/')} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=2000, help="random examples per property (default 2000)")
    p.add_argument("-k", dest="pattern", default="", help="only the properties matching this pytest -k pattern")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "RELIABILITY.md", help="the document to update")
    p.add_argument("--no-write", action="store_true", help="print the section, do not write it")
    args = p.parse_args(argv)
    results, wall = run_campaign(args.examples, args.pattern)
    body = section(results, args.examples, wall, command_line(__file__, argv))
    print(body)
    if not args.no_write:
        write_perf(args.out, SECTION, body)
    return 0 if all(r["outcome"] == "held" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""What a viewer costs the server: a run trained by the CLI in its own process, watched on the
Train page's live view by 0, 1, 5 and 10 simulated users (Streamlit's websocket protocol,
`benchmarks/st_protocol.py`: the server does all its work, no browser shares the cores). Per
viewer count: the server's CPU (% of one core, from /proc), the training's epochs per minute,
and the live fragment's rerun time (median, p95). `--soak S` then clicks through every page of
the sidebar for S seconds as one user and records the server's memory after each round.
Writes "## Watching a run" in docs/PERF.md.

    python benchmarks/watch_cost.py                       # 0 1 5 10 viewers, 30 s each
    python benchmarks/watch_cost.py --viewers 0 10 --window 20 --soak 300 --no-write
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import serve  # noqa: E402
from benchmarks.harness import command_line, write_perf  # noqa: E402
from benchmarks.st_protocol import ProtocolUser  # noqa: E402
from ganlib.ui.navigation import PAGES  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_pid(port: int) -> int:
    """The streamlit process listening on `port` (serve() does not hand out its Popen)."""
    out = subprocess.run(["pgrep", "-f", f"server.port {port}"], capture_output=True, text=True).stdout.split()
    return int(out[0])


def epochs_done(run_dir: Path) -> int:
    try:
        return max(0, len(run_dir.joinpath("metrics.csv").read_text().splitlines()) - 1)
    except OSError:
        return 0


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


class Viewer(threading.Thread):
    """One user on Train's live view, rerunning its fragments as a browser's timers would."""

    def __init__(self, url: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.stop_event, self.times, self.error = url, stop, [], None

    def run(self) -> None:
        try:
            user = ProtocolUser(self.url)
            user.open("Train")
            user.set("train_mode", "Live view")
            user.rerun()
            while not self.stop_event.is_set():
                self.stop_event.wait(user.next_due_s() or 0.5)
                self.times += [r.seconds for r in user.poll_fragments()]
            user.close()
        except Exception as e:  # noqa: BLE001 - reported in the table
            self.error = f"{type(e).__name__}: {e}"


def measure(url: str, pid: int, run_dir: Path, viewers: int, window: float) -> dict:
    stop = threading.Event()
    threads = [Viewer(url, stop) for _ in range(viewers)]
    for t in threads:
        t.start()
    time.sleep(5)  # every viewer on the live view
    for t in threads:
        t.times.clear()
    c0, e0, t0 = cpu_seconds(pid), epochs_done(run_dir), time.monotonic()
    time.sleep(window)
    c1, e1, t1 = cpu_seconds(pid), epochs_done(run_dir), time.monotonic()
    stop.set()
    for t in threads:
        t.join(30)
    times = [x for t in threads for x in t.times]
    print(f"{viewers} viewers: server CPU {100 * (c1 - c0) / (t1 - t0):.0f} %, {len(times)} polls", file=sys.stderr)
    return {"viewers": viewers, "server_cpu_pct": 100 * (c1 - c0) / (t1 - t0),
            "epochs_per_min": 60 * (e1 - e0) / (t1 - t0), "polls": len(times),
            "poll_median_s": statistics.median(times) if times else float("nan"), "poll_p95_s": pct(times, 0.95),
            "errors": [t.error for t in threads if t.error]}


def soak(url: str, pid: int, seconds: float) -> list[tuple[int, float]]:
    """One user opening every page of the sidebar in turn; the server's RSS after each round."""
    user = ProtocolUser(url)
    out, end, rounds = [(0, rss_mb(pid))], time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for spec in PAGES:
            user.open(spec.url_path)
        rounds += 1
        out.append((rounds, rss_mb(pid)))
        print(f"soak round {rounds}: RSS {out[-1][1]:.0f} MB", file=sys.stderr)
    user.close()
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--viewers", type=int, nargs="+", default=[0, 1, 5, 10])
    p.add_argument("--window", type=float, default=30.0, help="seconds measured per viewer count")
    p.add_argument("--soak", type=float, default=0.0, help="seconds of clicking through every page (0: none)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    cmd = command_line(__file__, argv)
    root = Path(tempfile.mkdtemp(prefix="watch-cost-"))
    runs = root / "runs"
    runs.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    trainer = subprocess.Popen([sys.executable, "-m", "ganlib", "train", "--model", "mlp_gan", "--epochs", "5000",
                                "--max-images", "1024", "--batch-size", "64", "--device", "cpu", "--eval-every", "0",
                                "--checkpoint-every", "1000", "--runs-dir", str(runs)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not any(runs.iterdir()):
            if trainer.poll() is not None:
                raise RuntimeError(f"the training run exited with {trainer.returncode}")
            time.sleep(0.5)
        run_dir = next(runs.iterdir())
        with serve(runs) as url:
            pid = server_pid(int(url.rsplit(":", 1)[1]))
            rows = [measure(url, pid, run_dir, n, args.window) for n in args.viewers]
            soaked = soak(url, pid, args.soak) if args.soak else []
    finally:
        trainer.terminate()
        trainer.wait(30)
    load = os.getloadavg()
    lines = ["| viewers | server CPU (% of a core) | training (epochs/min) | live polls | poll median (s) | "
             "poll p95 (s) |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['viewers']} | {r['server_cpu_pct']:.1f} | {r['epochs_per_min']:.0f} | {r['polls']} | "
                     f"{r['poll_median_s']:.3f} | {r['poll_p95_s']:.3f} |" + (f" errors: {r['errors']}" if r['errors']
                                                                              else ""))
    body = "\n".join(lines) + f"\n\nMachine load (1/5/15 min) at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.\n"
    if soaked:
        first, last = soaked[0][1], soaked[-1][1]
        tail = soaked[-min(5, len(soaked) - 1) - 1:]
        per_round = (tail[-1][1] - tail[0][1]) / max(1, tail[-1][0] - tail[0][0])
        body += (f"\nSoak: {soaked[-1][0]} rounds through all {len(PAGES)} pages in {args.soak:.0f} s; server RSS "
                 f"{first:.0f} MB before, {last:.0f} MB after, {per_round:+.1f} MB per round over the last rounds "
                 f"(RSS after each round: {', '.join(f'{m:.0f}' for _, m in soaked)}).\n")
    body += f"\n`{cmd}`\n"
    print(body)
    if not args.no_write:
        write_perf(ROOT / "docs" / "PERF.md", "## Watching a run", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

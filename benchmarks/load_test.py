"""A class on one shared server: N simulated users (default 30) sign in, each starts a small run
on the Train page and watches it on the live view until it completes, then browses the class's
runs until the test's time is up; then they all leave, and the jobs still queued train on with
nobody watching (`--drain-s`) before the memory is read again. Users are Streamlit's websocket protocol
driven from Python (`benchmarks/st_protocol.py`), so the server does all of its work while no
browser shares the two cores. Writes "## A class on one server" in docs/PERF.md.

    python benchmarks/load_test.py                        # 30 users, 10 minutes
    python benchmarks/load_test.py --users 5 --minutes 2 --no-write

Checked and reported: every run completes and nothing is lost (one completed run per user, owned
by that user, no queue file left), the queue's order (runs start in the order of the Start
clicks), page latency (median and 95th percentile per kind of script run), the server's memory
over the test and after the users leave.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import serve  # noqa: E402
from benchmarks.harness import command_line, write_perf  # noqa: E402
from benchmarks.st_protocol import ProtocolUser  # noqa: E402
from benchmarks.watch_cost import pct, rss_mb, server_pid  # noqa: E402
from ganlib.store.queue_folder import QueueFolder  # noqa: E402
from ganlib.store.run_folder import list_runs  # noqa: E402
from ganlib.store.users import UsersFile  # noqa: E402

TINY = {"cfg_epochs": 1, "cfg_max_images": 256, "cfg_batch_size": 64, "cfg_eval_every": 0}
BROWSE = ["", "Samples", "Compare_runs", "Train"]  # Home, then the class's runs
JOB_RE = re.compile(r"\*\*Job (\d+)\*\*")  # the live view's "**Job 7**: ..."


class Student(threading.Thread):
    def __init__(self, i: int, url: str, end: float, lat: dict, log: list, arrive_s: float):
        super().__init__(daemon=True, name=f"user{i:02d}")
        self.name_, self.url, self.end, self.lat, self.log = f"user{i:02d}", url, end, lat, log
        self.arrive_s = arrive_s
        self.clicked: Optional[float] = None  # Start sent
        self.queued: Optional[float] = None  # the server's answer to Start came back: the job is in the queue
        self.completed = False
        self.job: Optional[int] = None  # the job number the server gave the Start: its place in the queue
        self.error: Optional[str] = None

    def timed(self, kind: str, run) -> None:
        self.lat[kind].append(run.seconds)
        if run.errors:
            self.log.append(f"{self.name_} {kind}: {run.errors[0][:200]}")

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported
            self.error = f"{type(e).__name__}: {e}"

    def _run(self) -> None:
        time.sleep(random.uniform(0, self.arrive_s))  # a class arrives over a minute or two
        u = ProtocolUser(self.url, timeout_s=300)
        self.timed("open the sign-in page", u.open(""))
        r = sign_in(u, self.name_, f"password-{self.name_}")
        self.timed("sign in", r)
        if not r.has(f"Signed in as **{self.name_}**"):
            raise RuntimeError(f"sign-in failed: {r.texts[:3]}")
        self.timed("open Train", u.open("Train"))
        for key, value in TINY.items():
            u.set(key, value)
        u.click("start")
        self.clicked = time.time()
        r = u.rerun()
        self.queued = time.time()
        self.timed("Start (queue the job)", r)
        while time.monotonic() < self.end and not self.completed:
            wait = u.next_due_s()
            if wait is None:  # the fragment stopped: the job ended; one full rerun shows how
                time.sleep(2)
                runs = [u.rerun()]
                kind = "Train (rerun)"
            else:
                time.sleep(wait)
                runs = u.poll_fragments()
                kind = "live view poll"
            for r in runs:
                self.timed(kind, r)
                if self.job is None:
                    self.job = next((int(m.group(1)) for t in r.texts if (m := JOB_RE.search(t))), None)
                if r.has("State: **completed**"):
                    self.completed = True
                if r.has("State: **failed**") or r.has("State: **diverged**"):
                    raise RuntimeError(f"the job failed: {[t for t in r.texts if 'State' in t]}")
        while time.monotonic() < self.end:  # browse the class's runs, a page every few seconds
            time.sleep(random.uniform(3, 8))
            self.timed("browse a page", u.open(random.choice(BROWSE)))
        u.close()


def sign_in(u: ProtocolUser, name: str, password: str):
    """Fill in the sign-in form on the open page and submit it; the script run that answers."""
    u.set("signin_name", name)
    u.set("signin_password", password)
    u.click("signin_submit")
    return u.rerun()


def warm_up(url: str, name: str, password: str) -> None:
    """One user signs in and opens every page the class will: the modules and caches every
    server loads once are in memory before the class arrives, so the baseline is a warm server's."""
    u = ProtocolUser(url, timeout_s=300)
    u.open("")
    sign_in(u, name, password)
    for page in BROWSE:
        u.open(page)
    u.close()


def finished(runs: Path) -> dict[str, tuple[float, float]]:
    """{run name: (when it completed, its images/s)} of the completed runs."""
    out = {}
    for r in list_runs(runs):
        if r.status().get("state") == "completed":
            rows = r.metrics()
            out[r.name] = (r.path.joinpath("status.json").stat().st_mtime,
                           float(rows[-1].get("images_per_sec") or "nan") if rows else float("nan"))
    return out


def drain(runs: Path, n: int, limit_s: float) -> Optional[float]:
    """Seconds until `n` runs completed and no job waits, or None past `limit_s`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        if len(finished(runs)) >= n and not QueueFolder(runs).entries():
            return time.monotonic() - t0
        time.sleep(2)
    return None


def children_rss_mb(pid: int) -> float:
    """The summed RSS of `pid`'s child processes (a shared server trains each job in one)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for child in out:
        try:
            total += rss_mb(int(child))
        except (OSError, ValueError):  # it ended between the listing and the read
            pass
    return total


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--drain-s", type=float, default=900.0, help="the most seconds to wait, once everyone left, for "
                   "the jobs still queued to finish")
    p.add_argument("--after-s", type=float, default=150.0, help="seconds to watch memory after that")
    p.add_argument("--arrive-s", type=float, default=120.0, help="users arrive at random times within this many "
                   "seconds (spread out, some Starts are answered before others are pressed: the queue's order shows)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    cmd = command_line(__file__, argv)
    root = Path(tempfile.mkdtemp(prefix="load-test-"))
    runs = root / "runs"
    runs.mkdir()
    users = UsersFile(root / "users.json")  # argon2id with the library's own parameters, as a class gets
    for i in range(args.users):
        users.add(f"user{i:02d}", f"password-user{i:02d}")
    users.add("warmup", "password-warmup")
    (root / "server.toml").write_text(f'shared = true\nusers_file = "{root / "users.json"}"\n'
                                      f'uploads_dir = "{root / "uploads"}"\nmax_queued_per_user = 3\n')
    os.environ["GANLIB_SERVER_CONFIG"] = str(root / "server.toml")
    os.environ["OMP_NUM_THREADS"] = "1"
    lat: dict[str, list[float]] = defaultdict(list)
    log: list[str] = []
    mem: list[tuple[float, float]] = []
    kids: list[float] = []  # the server's child processes (training jobs), summed
    with serve(runs) as url:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        t0 = time.monotonic()
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                mem.append((time.monotonic() - t0, rss_mb(pid)))
                kids.append(children_rss_mb(pid))
                stop.wait(5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        warm_up(url, "warmup", "password-warmup")
        time.sleep(5)
        warm = rss_mb(pid)
        end = time.monotonic() + 60 * args.minutes
        students = [Student(i, url, end, lat, log, args.arrive_s) for i in range(args.users)]
        for s in students:
            s.start()
        for s in students:
            s.join(60 * args.minutes + 600)
        left, left_wall = time.monotonic() - t0, time.time()
        drained = drain(runs, args.users, args.drain_s)  # nobody watches now: the queue trains on
        rss_drained = rss_mb(pid)
        time.sleep(args.after_s)  # the sessions are gone; does the memory come back?
        stop.set()
        sampler.join()
        mem.append((time.monotonic() - t0, rss_mb(pid)))
    load = os.getloadavg()
    done = {r.owner(): r for r in list_runs(runs)}
    states = {r.name: r.status().get("state") for r in list_runs(runs)}
    completed = sum(1 for s in states.values() if s == "completed")
    # fair: a job queued (its Start answered) before another user pressed Start starts first
    start_pos = {r.owner(): i for i, r in enumerate(list_runs(runs))}  # run folders are numbered as jobs start
    clicked = [s for s in students if s.queued and s.name_ in start_pos]
    pairs = [(a, b) for a in clicked for b in clicked if a.queued < b.clicked]
    unfair = [(a.name_, b.name_) for a, b in pairs if start_pos[a.name_] > start_pos[b.name_]]
    # FIFO on the server: the jobs (numbered as they joined the queue) started in their numbers' order
    by_job = [s.name_ for s in sorted((s for s in students if s.job is not None and s.name_ in start_pos),
                                      key=lambda s: s.job)]
    fifo = sum(1 for a, b in zip(by_job, by_job[1:]) if start_pos[a] < start_pos[b])
    fin = finished(runs)
    watched = [ips for t, ips in fin.values() if t <= left_wall]  # trained while 30 sessions were on
    alone = [ips for t, ips in fin.values() if t > left_wall]  # trained after everyone left
    speed = (f"{len(watched)} runs completed while the users were on (median {statistics.median(watched):.0f} "
             "images/s)" if watched else "no run completed while the users were on")
    speed += (f", {len(alone)} after they left (median {statistics.median(alone):.0f} images/s), the last "
              + (f"{drained:.0f} s after they left" if drained is not None else f"not within {args.drain_s:.0f} s")
              if alone else "")
    peak = max(m for _, m in mem)
    during = [m for t, m in mem if t <= left]
    lines = [f"{args.users} users arriving within {args.arrive_s:g} s, {args.minutes:g} minutes; one training slot "
             "(the CPU default), each job in its own process, at most 1 running and 3 waiting jobs per user; each "
             "run: the Train form's default model, 256 digits, 1 epoch, no evaluation.", "",
             f"- Runs: {len(states)} made, {completed} completed, one per user: "
             f"{sorted(done) == sorted(s.name_ for s in students)}; queue files left: "
             f"{len(QueueFolder(runs).entries())}; users who saw their job complete: "
             f"{sum(s.completed for s in students)}; errors: {[s.error for s in students if s.error] or 'none'}.",
             f"- Training: {speed}.",
             f"- Queue order: of {len(pairs)} pairs of users where one's Start was answered (the job queued) "
             f"before the other pressed Start, {len(pairs) - len(unfair)} started in that order"
             + (f"; out of order: {unfair[:5]}" if unfair else "")
             + f". Of {len(by_job)} jobs whose number a user saw, {fifo} of {max(0, len(by_job) - 1)} consecutive "
               "pairs (by job number, the order they joined the queue) started in that order.",
             f"- Server memory (RSS): {mem[0][1]:.0f} MB at the start, {warm:.0f} MB once warm (one user "
             f"opened every page the class uses), peak {peak:.0f} MB, "
             f"{during[-1]:.0f} MB when the users left, {rss_drained:.0f} MB when the queue was empty, "
             f"{mem[-1][1]:.0f} MB {args.after_s:.0f} s later. The training processes (the server's "
             f"children) together: peak {max(kids, default=0):.0f} MB, "
             f"{kids[-1] if kids else 0:.0f} MB at the end.", "",
             "| script run | count | median (s) | p95 (s) |", "| --- | --- | --- | --- |"]
    for kind, xs in lat.items():
        lines.append(f"| {kind} | {len(xs)} | {statistics.median(xs):.2f} | {pct(xs, 0.95):.2f} |")
    lines += ["", f"Memory every 5 s (MB): {', '.join(f'{m:.0f}' for _, m in mem[::6])} (every 30 s shown).",
              f"Page errors seen: {len(log)}" + (f" (first: {log[0]})" if log else "") + ".",
              f"Machine load (1/5/15 min) at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.", "", f"`{cmd}`"]
    body = "\n".join(lines) + "\n"
    print(body)
    (root / "result.json").write_text(json.dumps({"latency": lat, "memory": mem, "states": states}, indent=1))
    if not args.no_write:
        write_perf(ROOT / "docs" / "PERF.md", "## A class on one server", body)
    return 0 if completed == args.users else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a job's training runs: in the job's own thread (a laptop, the CLI, the tests) or in a
child process (a shared server). Both run the one `training.train` and report through the
same `Callbacks`; the job manager picks one by name from `EXECUTORS`.

    outcome = EXECUTORS["process"](cfg, runs_dir=root, resume=None, owner="ada",
                                   callbacks=cb, steering=Steering(stop, running, on_parked))

Why a process on a shared server: a training thread inside the Streamlit server shares its GIL
with every session's script runs; with 30 sessions polling, a small run fell from 506 to 13
images/s (docs/PERF.md, "A class on one server"), and its tensors stayed in the server's heap
after it ended. A child process trains at its own pace, and its memory goes back to the system
when it exits.

The child is a fresh `python -c` joined to the parent by a socket pair carrying pickled tuples
(`multiprocessing.connection.Connection`). Down (parent to child): first "job" (config, runs
folder, resume, owner), then "pause", "run", "stop" and "edits". Up: "data", "start",
"progress", "epoch", "stream" (the callbacks' arguments), "parked" (paused at a step boundary),
"want_edits" (an epoch boundary: the parent answers with the job's pending edits) and at the end
"result". The child sends from a thread of its own, so the trainer never waits for a busy
parent, except up to `EDITS_WAIT_S` at an epoch boundary (edits that come later are applied at
the next one). A child stops, keeping its checkpoints, on SIGTERM and when its parent is gone
(end of file on the socket); a child that dies without a word (killed, out of memory) fails its
job with its exit code, and its run says so.
"""
from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Optional

from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import kept, train
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

EDITS_WAIT_S = 2.0  # the longest a child waits at an epoch boundary for the parent's edits
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding ganlib, for the child's imports
POLL_S = 0.2  # the parent's wait for the next message (and so its reaction time to pause/stop)


@dataclass
class Outcome:
    state: str  # completed | stopped | diverged | failed
    error: Optional[str] = None
    rows: Optional[list[dict[str, float]]] = None  # the run's epochs; None: no word from the run (none was made)
    traceback: Optional[str] = None


@dataclass
class Steering:
    """The job's switches, set by the job manager's commands: `stop` set = stop at the next step,
    `running` cleared = pause there. `on_parked()` is called once the training is parked."""

    stop: threading.Event
    running: threading.Event
    on_parked: Callable[[], None] = lambda: None

    def wanted(self) -> str:
        return "stop" if self.stop.is_set() else "pause" if not self.running.is_set() else "run"


# ---- in this thread ------------------------------------------------------------------------------
def run_in_thread(cfg: TrainConfig, *, runs_dir: Any, resume: Optional[str], owner: str, callbacks: Callbacks,
                  steering: Steering) -> Outcome:
    """Train here; a pause parks this thread at a step boundary until resume or stop."""
    started: list[Run] = []

    def on_start(run: Run) -> None:
        started.append(run)
        callbacks.on_start(run)

    def should_stop() -> bool:
        if not steering.running.is_set():
            run = started[-1] if started else None
            _say(run, "paused")
            steering.on_parked()
            steering.running.wait()
            if not steering.stop.is_set():
                _say(run, "running")
        return steering.stop.is_set()

    here = replace(callbacks, on_start=on_start, should_stop=should_stop)
    return _outcome(lambda: train(cfg, runs_dir=runs_dir, resume=resume, callbacks=here, owner=owner))


def _say(run: Optional[Run], state: str) -> None:
    """A pause or its end in the run's status, written by the process that trains (its pid is
    the status's, so a crashed trainer reads as interrupted); before the run exists, nothing."""
    if run is not None:
        run.write_status(state=state)


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        result = call()
    except Exception as e:  # noqa: BLE001 - config and data errors before the run exists
        return Outcome("failed", str(e), None, traceback.format_exc())
    tb = result.run.status().get("traceback") if result.state == "failed" else None
    return Outcome(result.state, result.error, [dict(r) for r in result.rows], tb)


# ---- in a child process ----------------------------------------------------------------------------
CHILD = "from ganlib.engine.job_executors import child_main; child_main({fd})"


def run_in_child(cfg: TrainConfig, *, runs_dir: Any, resume: Optional[str], owner: str, callbacks: Callbacks,
                 steering: Steering) -> Outcome:
    """Train in a new Python process; this thread relays its messages to `callbacks` and
    `steering`'s switches to it. A fresh interpreter (not `multiprocessing`'s spawn, which re-runs
    the parent's `__main__`: inside Streamlit that is the page script) joined by a socket pair."""
    ours, theirs = socket.socketpair()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)}
    try:
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(fd=theirs.fileno())], pass_fds=(theirs.fileno(),),
                                stdin=subprocess.DEVNULL, env=env, close_fds=True)
    finally:
        theirs.close()
    conn = Connection(ours.detach())
    told, run_path, outcome = "run", None, None
    try:
        conn.send(("job", cfg.to_dict(), None if runs_dir is None else str(runs_dir), resume, owner))
        while outcome is None:
            wanted = steering.wanted()
            if wanted != told:
                conn.send((wanted,))
                told = wanted
            if not conn.poll(POLL_S):
                continue
            try:
                msg = conn.recv()
            except EOFError:  # the child is gone
                break
            kind = msg[0]
            if kind == "start":
                run_path = msg[1]
                callbacks.on_start(Run(Path(run_path)))
            elif kind == "progress":
                callbacks.on_progress(msg[1])
            elif kind == "epoch":
                callbacks.on_epoch(msg[1])
            elif kind == "stream":
                callbacks.on_stream(msg[1])
            elif kind == "data":
                callbacks.on_data(msg[1], msg[2])
            elif kind == "parked":
                steering.on_parked()
            elif kind == "want_edits":
                conn.send(("edits", callbacks.pending_edits()))
            elif kind == "result":
                outcome = Outcome(*msg[1:])
    except (BrokenPipeError, ConnectionResetError):  # sending to a child that has just died
        pass
    finally:
        conn.close()  # a child still training sees its parent gone and stops, keeping its checkpoints
        try:
            proc.wait(60 if outcome is not None else 5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
    return outcome if outcome is not None else _died(proc.returncode, run_path)


def _died(exitcode: Optional[int], run_path: Optional[str]) -> Outcome:
    how = (f"killed by signal {signal.Signals(-exitcode).name}" if exitcode is not None and exitcode < 0
           else f"exit code {exitcode}")
    run = Run(Path(run_path)) if run_path is not None else None
    saved = run.checkpoints()[-1][0] if run is not None and run.checkpoints() else 0
    error = (f"The training process ended without a result ({how}; a kill or running out of memory does "
             f"this): {kept(saved)}" + (" Resume the run from the Train page." if saved else ""))
    if run is not None:
        run.write_status(state="failed", error=error, traceback=None)
    return Outcome("failed", error)


class _ChildSide:
    """The child's end of the socket: sends from a thread of its own (a busy parent never holds
    up a step), reads the parent's switches without blocking, parks on pause, stops on "stop",
    on SIGTERM and when the parent is gone (the socket's end of file)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.stop = self.paused = False
        self.edits: dict[str, Any] = {}
        self.edits_came = False
        self.run: Optional[Run] = None
        self._out: queue.Queue = queue.Queue()
        self._sender = threading.Thread(target=self._send_all, daemon=True, name="ganlib-child-sender")
        self._sender.start()

    def send(self, msg: tuple) -> None:
        self._out.put(msg)

    def _send_all(self) -> None:
        while (msg := self._out.get()) is not None:
            try:
                self.conn.send(msg)
            except OSError:  # the parent is gone; the steps notice through recv
                self.stop = True

    def flush(self) -> None:
        self._out.put(None)
        self._sender.join(30)

    def _take(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "stop":
            self.stop = True
        elif kind == "pause":
            self.paused = True
        elif kind == "run":
            self.paused = False
        elif kind == "edits":
            self.edits.update(msg[1])
            self.edits_came = True

    def _drain(self, timeout: float = 0.0) -> None:
        try:
            while self.conn.poll(timeout):
                self._take(self.conn.recv())
                timeout = 0.0
        except (EOFError, OSError):
            self.stop = True  # the server is gone: stop and keep the checkpoints

    def should_stop(self) -> bool:
        self._drain()
        if self.paused and not self.stop:
            _say(self.run, "paused")
            self.send(("parked",))
            while self.paused and not self.stop:
                self._drain(timeout=1.0)
            if not self.stop:
                _say(self.run, "running")
        return self.stop

    def pending_edits(self) -> dict[str, Any]:
        self.edits_came = False
        self.send(("want_edits",))
        end = time.monotonic() + EDITS_WAIT_S
        while not self.edits_came and not self.stop and time.monotonic() < end:
            self._drain(timeout=0.05)
        edits, self.edits = self.edits, {}
        return edits


def child_main(fd: int) -> None:
    """The child process: read the job, train it, send the outcome."""
    side = _ChildSide(Connection(fd))
    signal.signal(signal.SIGTERM, lambda *_: setattr(side, "stop", True))  # `kill PID`, a shutdown: stop cleanly
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is the server's to handle
    _, cfg_dict, runs_dir, resume, owner = side.conn.recv()

    def on_start(run: Run) -> None:
        side.run = run
        side.send(("start", str(run.path)))

    cb = Callbacks(on_start=on_start,
                   on_progress=lambda p: side.send(("progress", p)),
                   on_epoch=lambda row: side.send(("epoch", dict(row))),
                   on_stream=lambda row: side.send(("stream", dict(row))),
                   on_data=lambda fraction, text: side.send(("data", fraction, text)),
                   should_stop=side.should_stop, pending_edits=side.pending_edits)
    outcome = _outcome(lambda: train(TrainConfig.from_dict(cfg_dict), runs_dir=runs_dir, resume=resume,
                                     callbacks=cb, owner=owner))
    side.send(("result", outcome.state, outcome.error, outcome.rows, outcome.traceback))
    side.flush()


EXECUTORS: dict[str, Callable[..., Outcome]] = {"thread": run_in_thread, "process": run_in_child}

"""A playground, one per browser session, that trains while it plays as a task of the
process's `TaskRunner` (engine/tasks.py): Play is refused while a training job or an experiment
holds the slot, and Pause ends the task, so a paused playground holds nothing.

    runner = PlaygroundRunner(tasks)
    runner.play(); runner.speed = 20; runner.pause(); runner.step(); runner.reset(); runner.close()

The thread never calls Streamlit: it trains under the playground's lock and pages poll
`snapshot()`, which copies everything out under that lock. It pauses itself when nobody has
looked for a while (a closed tab), and ends when its runner is garbage collected.
"""
from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Optional

from ganlib.core.threads import set_threads_here
from ganlib.engine.tasks import TaskRunner
from ganlib.explore.playground.config import PlaygroundConfig
from ganlib.explore.playground.session import Playground


class _Control:
    """What the runner and its thread share; the thread holds this, never the runner, so that a
    runner dropped with its session is garbage collected and its finalizer stops the thread."""

    def __init__(self, speed: int):
        self.running = threading.Event()  # set = playing; cleared = the task ends
        self.stop = threading.Event()
        self.speed = speed
        self.error: Optional[str] = None
        self.last_seen = time.monotonic()
        self.steps_per_s = 0.0


def _shutdown(ctl: _Control) -> None:
    ctl.stop.set()
    ctl.running.clear()


def _loop(pg: Playground, ctl: _Control, stop: threading.Event, tick_s: float, idle_pause_s: float) -> None:
    """The task: `speed` steps per tick while playing; it ends (and frees its slot) on a pause.
    It pauses itself when the losses diverge, on an error, and when nobody has looked at a
    snapshot for `idle_pause_s` (a closed tab)."""
    set_threads_here(1)
    while not stop.is_set() and ctl.running.is_set():
        if time.monotonic() - ctl.last_seen > idle_pause_s:
            ctl.running.clear()
            break
        t0 = time.monotonic()
        before = pg.steps
        try:
            pg.step(ctl.speed, should_stop=lambda: stop.is_set() or not ctl.running.is_set())
        except Exception as e:  # noqa: BLE001 - shown on the page, the thread lives on
            ctl.error = f"{type(e).__name__}: {e}"
            ctl.running.clear()
            continue
        if pg.diverged:
            ctl.error = (f"the losses became NaN or infinite at step {pg.steps}: lower the learning rates "
                         "or add a penalty, then Reset")
            ctl.running.clear()
        dt = time.monotonic() - t0
        if dt > 0 and pg.steps > before:
            ctl.steps_per_s = 0.8 * ctl.steps_per_s + 0.2 * (pg.steps - before) / dt if ctl.steps_per_s else \
                (pg.steps - before) / dt
        stop.wait(max(0.0, tick_s - dt))


class PlaygroundRunner:
    """A Playground trained by a daemon thread: play, pause, step, reset, speed (steps per tick).
    Keep one per browser session (`st.session_state`); `close()` ends the thread, and so does
    garbage collection of the runner when its session ends."""

    def __init__(self, cfg: Optional[PlaygroundConfig] = None, speed: int = 10, tick_s: float = 0.05,
                 idle_pause_s: float = 60.0, tasks: Optional[TaskRunner] = None):
        self.playground = Playground(cfg)
        self.tasks = tasks or TaskRunner()  # the dashboard passes the process's one runner
        self.tick_s, self.idle_pause_s = tick_s, idle_pause_s
        self._ctl = _Control(max(1, int(speed)))
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._finalizer = weakref.finalize(self, _shutdown, self._ctl)

    @property
    def cfg(self) -> PlaygroundConfig:
        return self.playground.cfg

    @property
    def speed(self) -> int:
        return self._ctl.speed

    @speed.setter
    def speed(self, value: int) -> None:
        self._ctl.speed = max(1, int(value))

    @property
    def playing(self) -> bool:
        return self._ctl.running.is_set() and self._thread is not None and self._thread.is_alive()

    @property
    def error(self) -> Optional[str]:
        return self._ctl.error

    @property
    def thread(self) -> Optional[threading.Thread]:
        return self._thread

    def play(self) -> None:
        """Start training as a task (TaskBusy when the runner admits none now)."""
        if self.playground.diverged:
            return
        self._ctl.error = None
        self._ctl.last_seen = time.monotonic()
        if self._thread is not None and self._thread.is_alive() and not self._ctl.running.is_set():
            self._thread.join(5.0)  # paused a moment ago: its task ends with the current tick
        if self._thread is None or not self._thread.is_alive():
            self._stop = threading.Event()
            self._ctl.stop = self._stop
            self._ctl.running.set()
            pg, ctl, stop, tick_s, idle_s = self.playground, self._ctl, self._stop, self.tick_s, self.idle_pause_s
            try:  # the work holds the playground and its controls, never the runner (see _Control)
                task = self.tasks.submit("playground", "The 2-D playground",
                                         lambda _stop: _loop(pg, ctl, stop, tick_s, idle_s))
            except BaseException:
                self._ctl.running.clear()
                raise
            self._thread = task.thread
        self._ctl.running.set()

    def pause(self) -> None:
        """Stop training after the current tick; the task ends and frees its slot."""
        self._ctl.running.clear()

    def step(self, n: Optional[int] = None) -> int:
        """Pause, then train `n` steps (default: one tick, `speed` steps) here and now."""
        self.pause()
        return self.playground.step(self.speed if n is None else n)

    def reset(self, cfg: Optional[PlaygroundConfig] = None) -> None:
        """Stop the thread and start over with fresh weights (and `cfg` if given); paused."""
        self.close()
        self._ctl.error = None
        self._ctl.steps_per_s = 0.0
        self.playground.reset(cfg)

    def configure(self, cfg: PlaygroundConfig) -> bool:
        """Live settings apply while playing; any other change resets (paused). True on reset."""
        if cfg == self.cfg:
            return False
        if not self.cfg.rebuilds(cfg):
            return self.playground.configure(cfg)
        self.reset(cfg)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop and join the thread (it ends within one training step)."""
        self._ctl.running.clear()
        self._stop.set()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout)
        self._ctl.running.clear()
        self._thread = None

    def traces(self) -> dict[str, Any]:
        self._ctl.last_seen = time.monotonic()
        return self.playground.traces()

    def snapshot(self) -> dict[str, Any]:
        """The playground's snapshot plus playing, speed, steps_per_s and error. Reading it also
        tells the thread somebody is watching (it pauses itself after idle_pause_s unwatched)."""
        self._ctl.last_seen = time.monotonic()
        snap = self.playground.snapshot()
        snap.update(playing=self.playing, speed=self.speed, error=self._ctl.error,
                    steps_per_s=self._ctl.steps_per_s if self.playing else 0.0)
        return snap

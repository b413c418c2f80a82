"""The one background-task runner: every long piece of work the dashboard starts (a training
job, an augmentation experiment, the 2-D playground while it plays) is a task of it, and one
admission rule decides whether a task may start now.

    runner = TaskRunner()                                   # the dashboard keeps one per process
    task = runner.submit("training", "Training job 3 (dcgan on mnist5k)", work)   # work(stop_event)
    runner.refusal("augmentation")                          # why it could not start now, or None
    runner.active()                                         # [{"id", "kind", "label", "started"}, ...]
    runner.wait(task.id)

The admission rule: at most `slots` tasks run at once (`GANLIB_TASK_SLOTS`, default 1). On a
2-core CPU two trainings, or a training and an experiment, each run at half speed and both
finish later than one after the other. A task that cannot start is refused with `TaskBusy`,
whose message names the task that holds the slot. A later version may queue instead of
refusing, or give each user their own tasks: `refusal` is the one place that decides.

A task's thread runs `work(stop)`, where `stop` is a `threading.Event` that `stop(task_id)`
sets; the work checks it at its own boundaries (a training step, a classifier, a tick). The
runner never calls Streamlit: the work writes its progress into its owner's lock-protected
state, and pages poll that. An exception in the work is kept on the task (`error`).
"""
from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ganlib.core.errors import BadValue, UserError

KINDS = ("training", "augmentation", "playground")  # what the dashboard runs in the background
KEEP_FINISHED = 20  # finished tasks kept for their outcome


class TaskBusy(UserError, RuntimeError):
    """No slot is free for a new task; the message says which task holds it."""


@dataclass
class Task:
    id: int
    kind: str
    label: str  # what a person reads: "Training job 3 (dcgan on mnist5k)"
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: Optional[threading.Thread] = field(default=None, repr=False)
    started: float = field(default_factory=time.time)
    finished: Optional[float] = None
    error: Optional[str] = None

    @property
    def active(self) -> bool:
        return self.finished is None

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "started": self.started,
                "finished": self.finished, "active": self.active, "error": self.error}


def default_slots() -> int:
    """Tasks that may run at once: $GANLIB_TASK_SLOTS, else 1."""
    try:
        return max(1, int(os.environ.get("GANLIB_TASK_SLOTS", "1")))
    except ValueError:
        return 1


class TaskRunner:
    """Runs each task in its own daemon thread, admitting at most `slots` at once. Thread-safe:
    the dashboard shares one between every session."""

    def __init__(self, slots: Optional[int] = None):
        self.slots = slots if slots is not None else default_slots()
        self._lock = threading.Lock()
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)

    # ---- the admission rule --------------------------------------------------------------------
    def refusal(self, kind: str) -> Optional[str]:
        """Why a task of `kind` cannot start now (the running tasks fill every slot), or None."""
        with self._lock:
            return self._refusal(kind)

    def _refusal(self, kind: str) -> Optional[str]:
        if kind not in KINDS:
            raise BadValue(f"unknown task kind {kind!r}; known: {', '.join(KINDS)}")
        running = [t for t in self._tasks.values() if t.active]
        if len(running) < self.slots:
            return None
        names = "; ".join(t.label for t in running)
        one = "One task runs" if self.slots == 1 else f"{self.slots} tasks run"
        return (f"{names} {'is' if len(running) == 1 else 'are'} running. {one} at a time on this machine "
                "(two would each run at half speed): stop it or wait for it to end")

    # ---- commands ------------------------------------------------------------------------------
    def submit(self, kind: str, label: str, work: Callable[[threading.Event], Any]) -> Task:
        """Start `work(stop_event)` in a new thread now, or raise TaskBusy."""
        with self._lock:
            why = self._refusal(kind)
            if why:
                raise TaskBusy(why)
            task = Task(next(self._ids), kind, label)
            task.thread = threading.Thread(target=self._run, args=(task, work), daemon=True,
                                           name=f"ganlib-{kind}-{task.id}")
            self._tasks[task.id] = task
            self._forget_old()
        task.thread.start()
        return task

    def stop(self, task_id: int) -> None:
        """Ask the task to stop at its next boundary."""
        with self._lock:
            task = self._tasks.get(task_id)
        if task is not None:
            task.stop_event.set()

    def wait(self, task_id: int, timeout: Optional[float] = None) -> dict[str, Any]:
        with self._lock:
            task = self._tasks[task_id]
        if task.thread is not None and task.thread is not threading.current_thread():
            task.thread.join(timeout)
        return self.info(task_id)

    # ---- views ---------------------------------------------------------------------------------
    def info(self, task_id: int) -> dict[str, Any]:
        with self._lock:
            return self._tasks[task_id].info()

    def active(self) -> list[dict[str, Any]]:
        """The running tasks, oldest first."""
        with self._lock:
            return [t.info() for t in self._tasks.values() if t.active]

    # ---- the thread ----------------------------------------------------------------------------
    def _run(self, task: Task, work: Callable[[threading.Event], Any]) -> None:
        try:
            work(task.stop_event)
        except Exception as e:  # noqa: BLE001 - the owner shows it; the runner frees the slot
            with self._lock:
                task.error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        finally:
            with self._lock:
                task.finished = time.time()

    def _forget_old(self) -> None:
        done = [i for i, t in self._tasks.items() if not t.active]
        for i in done[:-KEEP_FINISHED]:
            del self._tasks[i]

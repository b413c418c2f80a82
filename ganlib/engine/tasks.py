"""The one background-task runner: every long piece of work the dashboard starts (a training
job, an augmentation experiment, the 2-D playground while it plays) is a task of it, and one
admission rule decides whether a task may start now, wait in the queue, or is refused.

    runner = TaskRunner()                                   # the dashboard keeps one per process
    task = runner.submit("training", "Training job 3 (dcgan on mnist5k)", work)   # work(task)
    runner.refusal("augmentation")                          # why it could not start now, or None
    runner.active()                                         # [{"id", "kind", "label", "started"}, ...]
    runner.wait(task.id)

The admission rule (`refusal`, `_admit`): at most `slots` tasks run at once (`GANLIB_TASK_SLOTS`,
else the server's setting, else 1 on a CPU and 2 per GPU: on 2 CPU cores two trainings each run
at half speed and both finish later than one after the other). On a laptop a task that cannot
start is refused with `TaskBusy`, whose message names the task that holds the slot. A shared
server's runner queues instead (`queueing=True`, `submit(..., queue=True)`): training jobs wait
in FIFO order, each user with at most `Limits.running` running and `Limits.queued` waiting (the
oldest waiting job whose owner is under the running limit starts next, so one user's many jobs
cannot hold back the others'); a waiting task shows its position and can be cancelled. With
several GPUs each task is given the least busy one (`Task.device`). The queue's persistence
across restarts is the job manager's (the work is code; its description is a file).

A task's thread runs `work(task)`; the task behaves like the `threading.Event` that
`stop(task_id)` sets (`is_set()`, `wait()`), and the work checks it at its own boundaries (a
training step, a classifier, a tick). The runner never calls Streamlit: the work writes its
progress into its owner's lock-protected state, and pages poll that. An exception in the work
is kept on the task (`error`).
"""
from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch

from ganlib.core.errors import BadValue, UserError

KINDS = ("training", "augmentation", "playground")  # what the dashboard runs in the background
KEEP_FINISHED = 20  # finished tasks kept for their outcome


class TaskBusy(UserError, RuntimeError):
    """No slot is free for a new task (or the user's queue is full); the message says why."""


@dataclass(frozen=True)
class Limits:
    """Per-user limits of a queueing runner: jobs running at once, jobs waiting."""

    running: int = 1
    queued: int = 3


@dataclass
class Task:
    id: int
    kind: str
    label: str  # what a person reads: "Training job 3 (dcgan on mnist5k)"
    owner: Optional[str] = None  # the user it runs for (limits and "mine"); None on a laptop
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: Optional[threading.Thread] = field(default=None, repr=False)
    queued_at: float = field(default_factory=time.time)
    started: Optional[float] = None
    finished: Optional[float] = None
    cancelled: bool = False
    device: Optional[int] = None  # the GPU it was given, with several
    error: Optional[str] = None

    @property
    def active(self) -> bool:
        """Running now (started, not finished)."""
        return self.started is not None and self.finished is None

    @property
    def waiting(self) -> bool:
        return self.started is None and self.finished is None

    # the work sees its task as its stop event
    def is_set(self) -> bool:
        return self.stop_event.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self.stop_event.wait(timeout)

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "owner": self.owner,
                "queued_at": self.queued_at, "started": self.started, "finished": self.finished,
                "active": self.active, "waiting": self.waiting, "cancelled": self.cancelled,
                "device": self.device, "error": self.error}


def gpu_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_slots(setting: int = 0) -> int:
    """Tasks that may run at once: $GANLIB_TASK_SLOTS, else `setting` (the server's), else 1 on
    a CPU (two would each run at half speed) and 2 per GPU (one job rarely fills a GPU, and a
    second overlaps its data loading and evaluations)."""
    try:
        env = int(os.environ.get("GANLIB_TASK_SLOTS", "0"))
    except ValueError:
        env = 0
    if env > 0:
        return env
    if setting > 0:
        return setting
    return max(1, 2 * gpu_count())


class TaskRunner:
    """Runs each task in its own daemon thread, admitting at most `slots` at once. Thread-safe:
    the dashboard shares one between every session."""

    def __init__(self, slots: Optional[int] = None, *, queueing: bool = False, limits: Limits = Limits(),
                 devices: Optional[int] = None):
        self.slots = slots if slots is not None else default_slots()
        self.queueing = queueing
        self.limits = limits
        self.devices = gpu_count() if devices is None else devices  # GPUs to spread tasks over (0: none)
        self._lock = threading.Lock()
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)
        self._listeners: list[Callable[[], None]] = []

    def threads_per_task(self) -> int:
        """A CPU task's torch threads when `slots` tasks share the cores (0: torch's default)."""
        if self.devices or self.slots <= 1:
            return 0
        return max(1, (os.cpu_count() or 1) // self.slots)

    # ---- the admission rule --------------------------------------------------------------------
    def refusal(self, kind: str, owner: Optional[str] = None, queue: bool = False) -> Optional[str]:
        """Why a task of `kind` for `owner` cannot start now (the running tasks fill every slot),
        or, for a queueing runner and `queue`, cannot even wait (the owner's queue is full); else None."""
        with self._lock:
            return self._refusal(kind, owner, queue and self.queueing)

    def _refusal(self, kind: str, owner: Optional[str], queue: bool) -> Optional[str]:
        if kind not in KINDS:
            raise BadValue(f"unknown task kind {kind!r}; known: {', '.join(KINDS)}")
        if queue:
            mine = [t for t in self._tasks.values() if t.waiting and t.owner == owner]
            if len(mine) >= self.limits.queued:
                return (f"{owner} has {len(mine)} job{'s' if len(mine) > 1 else ''} waiting, the most one user may "
                        "queue here: cancel one or wait for one to start")
            return None
        running = [t for t in self._tasks.values() if t.active]
        waiting = [t for t in self._tasks.values() if t.waiting]
        if len(running) < self.slots and not waiting:
            return None
        names = "; ".join(t.label for t in running) or "queued jobs"
        one = "One task runs" if self.slots == 1 else f"{self.slots} tasks run"
        return (f"{names} {'is' if len(running) == 1 else 'are'} running. {one} at a time on this machine "
                "(two would each run at half speed): stop it or wait for it to end")

    def _admit(self) -> list[Task]:
        """Start waiting tasks, oldest first, while slots are free; skip one whose owner already
        runs their limit (the next user's job goes first). Called under the lock."""
        started = []
        running = [t for t in self._tasks.values() if t.active]
        for task in sorted((t for t in self._tasks.values() if t.waiting), key=lambda t: t.id):
            if len(running) >= self.slots:
                break
            if task.owner is not None and sum(t.owner == task.owner for t in running) >= self.limits.running:
                continue
            self._start(task, running)
            running.append(task)
            started.append(task)
        return started

    def _start(self, task: Task, running: list[Task]) -> None:
        if self.devices:
            load = [sum(t.device == d for t in running) for d in range(self.devices)]
            task.device = load.index(min(load))
        task.started = time.time()

    # ---- commands ------------------------------------------------------------------------------
    def submit(self, kind: str, label: str, work: Callable[[Task], Any], owner: Optional[str] = None,
               queue: bool = False) -> Task:
        """Start `work(task)` in a new thread now, or raise TaskBusy. A queueing runner given
        `queue` puts the task in the queue instead when no slot is free (TaskBusy only when the
        owner's queue is full)."""
        queue = queue and self.queueing
        with self._lock:
            why = self._refusal(kind, owner, queue)
            if why:
                raise TaskBusy(why)
            task = Task(next(self._ids), kind, label, owner)
            task.thread = threading.Thread(target=self._run, args=(task, work), daemon=True,
                                           name=f"ganlib-{kind}-{task.id}")
            self._tasks[task.id] = task
            self._forget_old()
            started = self._admit() if queue else []
            if not queue:
                self._start(task, [t for t in self._tasks.values() if t.active])
                started = [task]
        for t in started:
            t.thread.start()
        self._changed()
        return task

    def stop(self, task_id: int) -> None:
        """Ask the task to stop at its next boundary; a waiting task is taken out of the queue."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None and task.waiting:
                task.cancelled, task.finished = True, time.time()
        if task is not None:
            task.stop_event.set()
        self._changed()

    cancel = stop

    def wait(self, task_id: int, timeout: Optional[float] = None) -> dict[str, Any]:
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            task = self._tasks[task_id]
        while task.waiting and (end is None or time.monotonic() < end):  # queued: its thread starts later
            time.sleep(0.05)
        if task.thread is not None and task.thread is not threading.current_thread() and task.started:
            task.thread.join(None if end is None else max(0.0, end - time.monotonic()))
        return self.info(task_id)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (no lock held) whenever a task is queued, starts, ends or is cancelled."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # ---- views ---------------------------------------------------------------------------------
    def info(self, task_id: int) -> dict[str, Any]:
        with self._lock:
            return self._tasks[task_id].info()

    def active(self) -> list[dict[str, Any]]:
        """The running tasks, oldest first."""
        with self._lock:
            return [t.info() for t in self._tasks.values() if t.active]

    def queue(self) -> list[dict[str, Any]]:
        """The waiting tasks in the order they will be considered, each with its `position` (1 = next)."""
        with self._lock:
            waiting = sorted((t for t in self._tasks.values() if t.waiting), key=lambda t: t.id)
            return [{**t.info(), "position": i} for i, t in enumerate(waiting, start=1)]

    def position(self, task_id: int) -> Optional[int]:
        return next((q["position"] for q in self.queue() if q["id"] == task_id), None)

    # ---- the thread ----------------------------------------------------------------------------
    def _run(self, task: Task, work: Callable[[Task], Any]) -> None:
        try:
            work(task)
        except Exception as e:  # noqa: BLE001 - the owner shows it; the runner frees the slot
            with self._lock:
                task.error = f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        finally:
            with self._lock:
                task.finished = time.time()
                started = self._admit()
            for t in started:
                t.thread.start()
            self._changed()

    def _forget_old(self) -> None:
        done = [i for i, t in self._tasks.items() if t.finished is not None]
        for i in done[:-KEEP_FINISHED]:
            del self._tasks[i]

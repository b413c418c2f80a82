"""The augmentation experiment as a task of the process's `TaskRunner` (engine/tasks.py).

    runner = AugmentRunner(tasks)      # the dashboard keeps one per process (ganlib.ui.resources)
    runner.start(run, settings)        # TaskBusy when the task runner admits nothing now
    runner.snapshot()                  # {"state", "fraction", "text", "result", "error", ...}
    runner.stop()

It writes the result into the run (augment.json), so the acting user must manage the run, and
only they (or a teacher) may stop it (`store.access`). As the job manager does, the thread
writes only into the runner's state under its lock and never calls Streamlit; pages poll
`snapshot()`, which copies out under that lock. Whether it may start beside a training job is
the task runner's one admission rule, not this module's.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Optional

from ganlib.engine.tasks import TaskBusy, TaskRunner
from ganlib.explore.augmentation import AugmentCancelled, AugmentSettings, augment_run
from ganlib.store.access import LOCAL, Actor, require, require_owner
from ganlib.store.run_folder import Run


class AugmentRunner:
    """The latest augmentation experiment of this process: start, stop, watch."""

    def __init__(self, tasks: Optional[TaskRunner] = None):
        self.tasks = tasks or TaskRunner()
        self._lock = threading.Lock()
        self._task: Optional[int] = None
        self._state: dict[str, Any] = {"state": "idle", "fraction": 0.0, "text": "", "run": None, "owner": None,
                                       "result": None, "error": None, "settings": None, "started": None,
                                       "finished": None}

    def start(self, run: Run, settings: AugmentSettings, *, checkpoint: Optional[str] = None,
              device: str = "auto", actor: Actor = LOCAL) -> None:
        require(actor, run, "write")
        with self._lock:
            if self._state["state"] == "running":  # the state below holds one experiment
                raise TaskBusy(f"the augmentation experiment on {self._state['run']} is running; stop it first")
            task = self.tasks.submit("augmentation", f"The augmentation experiment on {run.name}",
                                     lambda stop: self._work(run, settings, checkpoint, device, stop),
                                     owner=actor.name)
            self._task = task.id
            self._state.update(state="running", fraction=0.0, text="starting", run=run.name, owner=actor.name,
                               result=None,
                               error=None, settings=settings.to_dict(), started=time.time(), finished=None)

    def stop(self, actor: Actor = LOCAL) -> None:
        require_owner(actor, self._state.get("owner"), "stop", "the augmentation experiment")
        if self._task is not None:
            self.tasks.stop(self._task)

    def wait(self, timeout: Optional[float] = None) -> dict[str, Any]:
        if self._task is not None:
            self.tasks.wait(self._task, timeout)
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def _work(self, run: Run, settings: AugmentSettings, checkpoint: Optional[str], device: str,
              stop: threading.Event) -> None:
        def progress(fraction: float, text: str) -> None:
            with self._lock:
                self._state.update(fraction=fraction, text=text)

        try:
            result = augment_run(run, settings, checkpoint=checkpoint, device=device, progress=progress,
                                 should_stop=stop.is_set)
            outcome = {"state": "done", "result": result, "fraction": 1.0}
        except AugmentCancelled:
            outcome = {"state": "stopped"}
        except Exception as e:  # noqa: BLE001 - shown on the page as one line
            outcome = {"state": "failed", "error": " ".join(str(e).split()) or type(e).__name__}
        with self._lock:
            self._state.update(outcome, finished=time.time())

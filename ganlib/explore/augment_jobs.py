"""The augmentation experiment in a background thread, one at a time per process.

    runner = AugmentRunner()          # the dashboard keeps one per process (ganlib.ui.augment_view)
    runner.start(run, settings)       # AugmentBusy while one runs
    runner.snapshot()                 # {"state", "fraction", "text", "result", "error", ...}
    runner.stop()

As the job manager does, the thread writes only into the runner's state under its lock and
never calls Streamlit; pages poll `snapshot()`, which copies out under that lock. One at a time:
two experiments on 2 CPU cores would each take twice as long.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Optional

from ganlib.explore.augmentation import AugmentCancelled, AugmentSettings, augment_run
from ganlib.store.run_folder import Run


class AugmentBusy(RuntimeError):
    """An experiment is already running in this process."""


class AugmentRunner:
    def __init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._state: dict[str, Any] = {"state": "idle", "fraction": 0.0, "text": "", "run": None, "result": None,
                                       "error": None, "settings": None, "started": None, "finished": None}

    def start(self, run: Run, settings: AugmentSettings, *, checkpoint: Optional[str] = None,
              device: str = "auto") -> None:
        with self._lock:
            if self._state["state"] == "running":
                raise AugmentBusy(f"an augmentation experiment on {self._state['run']} is running; stop it first")
            self._stop = threading.Event()
            self._state.update(state="running", fraction=0.0, text="starting", run=run.name, result=None,
                               error=None, settings=settings.to_dict(), started=time.time(), finished=None)
            self._thread = threading.Thread(target=self._work, args=(run, settings, checkpoint, device, self._stop),
                                            name="ganlib-augment", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: Optional[float] = None) -> dict[str, Any]:
        t = self._thread
        if t is not None:
            t.join(timeout)
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

"""The job manager: one per process, it runs `training.train` as a task of the process's
`TaskRunner` (engine/tasks.py), whose one admission rule decides whether a job may start now.

The dashboard holds one `JobManager` (through `st.cache_resource`), so every browser tab sees
the same jobs. The worker thread never touches Streamlit: it writes progress into the job
under a lock, and pages poll `snapshot()`, which returns plain data copied under that lock.
A paused job keeps its slot (its thread is parked at a step boundary).
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ganlib.engine.callbacks import Callbacks, TrainProgress
from ganlib.engine.tasks import TaskRunner
from ganlib.engine.training import train
from ganlib.store.config import TrainConfig, with_changes
from ganlib.store.run_folder import Run

STREAM_KEEP = 4000  # running-mean rows a job keeps for its charts


@dataclass
class Job:
    id: int
    config: TrainConfig
    resume: Optional[str] = None
    # queued | running | pausing | paused | stopping | completed | stopped | diverged | failed.
    # "pausing" becomes "paused" only once the worker is parked at a step boundary.
    state: str = "queued"
    run_path: Optional[str] = None
    progress: Optional[TrainProgress] = None
    rows: list[dict[str, float]] = field(default_factory=list)
    stream: list[dict[str, Any]] = field(default_factory=list)  # running means, about twice a second
    error: Optional[str] = None
    traceback: Optional[str] = None
    started: float = field(default_factory=time.time)
    finished: Optional[float] = None
    pending_edits: dict[str, Any] = field(default_factory=dict)  # applied at the next epoch boundary
    edited_config: Optional[TrainConfig] = None  # the config once they are
    loading: tuple[float, str] = (0.0, "")  # (fraction, text) while the data loads (a folder's first packing)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _running: threading.Event = field(default_factory=threading.Event, repr=False)  # cleared = paused
    thread: Optional[threading.Thread] = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "pausing", "paused", "stopping")


class JobManager:
    def __init__(self, runs_dir: str | Path | None = None, runner: Optional[TaskRunner] = None):
        self.runs_dir = runs_dir
        self.runner = runner or TaskRunner()  # the dashboard passes the process's one runner
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._next_id = 1

    # ---- commands ----------------------------------------------------------------------
    def start(self, cfg: TrainConfig, resume: str | Path | None = None) -> int:
        """Start a new run (or continue `resume`) in the background; returns the job id. Raises
        `TaskBusy` when the runner admits no task now (another job or experiment runs)."""
        with self._lock:
            job = Job(self._next_id, cfg, str(resume) if resume else None)
            job._running.set()
            task = self.runner.submit("training", f"Training job {job.id} ({cfg.model} on {cfg.dataset})",
                                      lambda _stop: self._work(job))
            job.thread = task.thread
            self._jobs[job.id] = job
            self._next_id += 1
        return job.id

    def pause(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.state in ("queued", "running"):
                job._running.clear()
                job.state = "pausing"

    def resume(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.state in ("pausing", "paused"):
                job.state = "running"
                job._running.set()
        self._mark(job, "running")

    def stop(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.active:
                job.state = "stopping"
                job._stop.set()
                job._running.set()  # wake a paused job so that it can stop

    def edit(self, job_id: int, **changes: Any) -> None:
        """Change learning rates, n_critic, penalty weights... of a running job. Validated now
        (a bad value raises ConfigError here), applied at the next epoch boundary, recorded in
        the run's edits.jsonl."""
        with self._lock:
            job = self._jobs[job_id]
            edited = with_changes(job.config, {**job.pending_edits, **changes}, "live")  # refuses a bad edit now
            if not job.active:
                raise RuntimeError("the job has ended; fork the run to continue with other settings")
            job.pending_edits.update(changes)
            job.edited_config = edited

    def wait(self, job_id: int, timeout: Optional[float] = None) -> dict[str, Any]:
        job = self._jobs[job_id]
        if job.thread is not None:
            job.thread.join(timeout)
        return self.snapshot(job_id)

    # ---- views -------------------------------------------------------------------------
    def snapshot(self, job_id: int) -> dict[str, Any]:
        """A copy of a job's state that a page can read without holding any lock."""
        with self._lock:
            j = self._jobs[job_id]
            p = j.progress
            return {
                "id": j.id, "state": j.state, "active": j.active, "run": j.run_path,
                "run_name": Path(j.run_path).name if j.run_path else None,
                "model": j.config.model, "dataset": j.config.dataset, "epochs": j.config.epochs,
                "epoch": p.epoch if p else (int(j.rows[-1]["epoch"]) if j.rows else 0),
                "epochs_done": int(j.rows[-1]["epoch"]) if j.rows else 0,
                "step": p.step if p else 0, "steps_per_epoch": p.steps_per_epoch if p else 0,
                "fraction": p.fraction if p else 0.0, "elapsed_s": p.elapsed_s if p else 0.0,
                "eta_s": p.eta_s if p else None,
                "rows": [dict(r) for r in j.rows],
                "stream": [dict(r) for r in j.stream],
                "error": j.error, "traceback": j.traceback, "config": j.config.to_dict(),
                "pending_edits": dict(j.pending_edits),
                "loading": j.loading,
            }

    def jobs(self) -> list[dict[str, Any]]:
        return [self.snapshot(i) for i in sorted(self._jobs)]

    def current(self) -> Optional[dict[str, Any]]:
        """The active job, else the latest one, else None."""
        with self._lock:
            ids = sorted(self._jobs)
            active = [i for i in ids if self._jobs[i].active]
        pick = active[-1] if active else (ids[-1] if ids else None)
        return self.snapshot(pick) if pick is not None else None

    # ---- the worker --------------------------------------------------------------------
    def _work(self, job: Job) -> None:
        def should_stop() -> bool:
            if not job._running.is_set():
                with self._lock:
                    if job.state == "pausing":
                        job.state = "paused"
                self._mark(job, "paused")
                job._running.wait()  # parked here until resume or stop
            return job._stop.is_set()

        def on_start(run: Run) -> None:
            rows, stream = run.metrics(), run.stream()  # a resumed run's earlier epochs: charts start whole
            with self._lock:
                job.run_path = str(run.path)
                job.rows = rows
                job.stream = stream[-STREAM_KEEP:]
                if job.state == "queued":  # a job paused while loading stays "pausing"
                    job.state = "running"

        def on_progress(p: TrainProgress) -> None:
            with self._lock:
                job.progress = p

        def on_epoch(row: dict[str, float]) -> None:
            with self._lock:
                job.rows.append(dict(row))

        def on_stream(row: dict[str, Any]) -> None:
            with self._lock:
                job.stream.append(dict(row))
                if len(job.stream) > STREAM_KEEP:  # a long run: keep the first row and every other one
                    job.stream[:] = job.stream[:1] + job.stream[2::2]

        def pending_edits() -> dict[str, Any]:
            with self._lock:
                edits, job.pending_edits = job.pending_edits, {}
                if edits:
                    job.config = job.edited_config  # what the trainer is about to apply
            return edits

        def on_data(fraction: float, text: str) -> None:
            with self._lock:
                job.loading = (fraction, text)

        cb = Callbacks(on_start=on_start, on_progress=on_progress, on_epoch=on_epoch, on_stream=on_stream,
                       should_stop=should_stop, pending_edits=pending_edits, on_data=on_data)
        try:
            result = train(job.config, runs_dir=self.runs_dir, resume=job.resume, callbacks=cb)
            with self._lock:
                job.state, job.error = result.state, result.error
                job.rows = [dict(r) for r in result.rows]
                if result.state == "failed":
                    job.traceback = result.run.status().get("traceback")
        except Exception as e:  # noqa: BLE001 - config/data errors before the run exists
            with self._lock:
                job.state, job.error, job.traceback = "failed", str(e), traceback.format_exc()
        finally:
            with self._lock:
                job.finished = time.time()

    def _mark(self, job: Job, state: str) -> None:
        if job.run_path:
            Run(Path(job.run_path)).write_status(state=state)

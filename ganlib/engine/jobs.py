"""The job manager: one per process, it runs `training.train` as a task of the process's
`TaskRunner` (engine/tasks.py), whose one admission rule decides whether a job may start now,
waits in the queue (a shared server) or is refused (a laptop).

The dashboard holds one `JobManager` (through `st.cache_resource`), so every browser tab sees
the same jobs. The worker thread never touches Streamlit: it writes progress into the job
under a lock, and pages poll `snapshot()`, which returns plain data copied under that lock.
A paused job keeps its slot (its thread is parked at a step boundary).

Every command takes the acting user (`store.access.Actor`; `LOCAL` on a laptop and the CLI) and
refuses with NotAllowed what that user may not do: pause, resume, stop, edit or cancel another
user's job, or resume another user's run. With server settings (`store.server_settings`) a
config is confined first (its data path inside the user's roots, the teacher's Inception
weights). A waiting job is also a file (`store.queue_folder`), so a restarted server re-queues it.

Where the training runs is the executor's (`engine/job_executors.py`): this task's thread on a
laptop, a child process on a shared server (`ServerSettings.job_processes`; $GANLIB_JOB_PROCESSES
= 1 or 0 overrides), so that 30 sessions' script runs do not starve it of the GIL.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ganlib.core.errors import NotAllowed
from ganlib.engine.callbacks import Callbacks, TrainProgress
from ganlib.engine.job_executors import EXECUTORS, Steering
from ganlib.engine.tasks import Task, TaskRunner
from ganlib.store.access import LOCAL, Actor, require, require_owner
from ganlib.store.config import TrainConfig, with_changes
from ganlib.store.queue_folder import QueueFolder
from ganlib.store.run_folder import Run
from ganlib.store.server_settings import ServerSettings

STREAM_KEEP = 4000  # running-mean rows a job keeps for its charts
log = logging.getLogger(__name__)


@dataclass
class Job:
    id: int
    config: TrainConfig
    resume: Optional[str] = None
    owner: str = LOCAL.name
    # waiting (in the queue) | queued (starting: data, models) | running | pausing | paused | stopping
    # | completed | stopped | diverged | failed | cancelled.
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
    task_id: Optional[int] = None
    queue_seq: Optional[int] = None  # its file in the queue folder while it waits
    device: Optional[int] = None  # the GPU the runner gave it, with several
    version: int = 0  # bumped by every change a viewer would draw: figures are rebuilt only then
    loading: tuple[float, str] = (0.0, "")  # (fraction, text) while the data loads (a folder's first packing)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _running: threading.Event = field(default_factory=threading.Event, repr=False)  # cleared = paused
    thread: Optional[threading.Thread] = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("waiting", "queued", "running", "pausing", "paused", "stopping")


class JobManager:
    def __init__(self, runs_dir: str | Path | None = None, runner: Optional[TaskRunner] = None,
                 settings: Optional[ServerSettings] = None, executor: Optional[str] = None):
        self.runs_dir = runs_dir
        self.runner = runner or TaskRunner()  # the dashboard passes the process's one runner
        self.settings = settings or ServerSettings()
        self.executor = executor or default_executor(self.settings)
        if self.executor not in EXECUTORS:
            raise ValueError(f"unknown executor {self.executor!r}; known: {', '.join(EXECUTORS)}")
        self.queue_folder = QueueFolder(runs_dir)
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._next_id = 1
        if self.runner.queueing:
            self._restore_queue()

    # ---- commands ----------------------------------------------------------------------
    def start(self, cfg: TrainConfig, resume: str | Path | None = None, actor: Actor = LOCAL) -> int:
        """Start a new run (or continue `resume`) in the background for `actor`; returns the job id.
        A shared server's runner queues the job when every slot is taken; a laptop's raises
        `TaskBusy` (another job or experiment runs). NotAllowed: another user's run, a data path
        outside the user's roots."""
        cfg = self.settings.confine(actor, cfg)
        if resume is not None:
            require(actor, Run(Path(resume)), "resume")
        return self._submit(cfg, str(resume) if resume else None, actor.name)

    def _submit(self, cfg: TrainConfig, resume: Optional[str], owner: str, seq: Optional[int] = None) -> int:
        with self._lock:
            job = Job(self._next_id, cfg, resume, owner)
            job._running.set()
            self._next_id += 1
            if self.runner.queueing:
                job.state = "waiting"
                job.queue_seq = seq if seq is not None else self.queue_folder.add(owner, cfg.to_dict(), resume)
            try:
                task = self.runner.submit("training", f"Training job {job.id} ({cfg.model} on {cfg.dataset})",
                                          lambda t: self._work(job, t), owner=owner, queue=True)
            except BaseException:
                if job.queue_seq is not None and seq is None:
                    self.queue_folder.remove(job.queue_seq)
                raise
            job.thread, job.task_id = task.thread, task.id
            self._jobs[job.id] = job
        return job.id

    def _restore_queue(self) -> None:
        """Re-queue the waiting jobs a previous server process left as files, oldest first."""
        for seq, entry in self.queue_folder.entries():
            try:
                cfg = TrainConfig.from_dict(entry["config"])
                self._submit(cfg, entry.get("resume"), entry["owner"], seq)
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the server; it is kept
                log.warning("queued job %s not restored: %s", self.queue_folder.file(seq), e)

    def _job(self, job_id: int, actor: Actor, action: str) -> Job:
        job = self._jobs[job_id]
        require_owner(actor, job.owner, action, f"job {job_id}")
        return job

    def pause(self, job_id: int, actor: Actor = LOCAL) -> None:
        with self._lock:
            job = self._job(job_id, actor, "pause")
            if job.state in ("queued", "running"):
                job._running.clear()
                job.state = "pausing"
                job.version += 1

    def resume(self, job_id: int, actor: Actor = LOCAL) -> None:
        with self._lock:
            job = self._job(job_id, actor, "resume")
            if job.state in ("pausing", "paused"):
                job.state = "running"
                job.version += 1
                job._running.set()

    def stop(self, job_id: int, actor: Actor = LOCAL) -> None:
        """Stop a running job after its current step; a waiting job leaves the queue (`cancel`)."""
        with self._lock:
            job = self._job(job_id, actor, "stop")
            if job.state == "waiting":
                self._cancel(job)
            elif job.active:
                job.state = "stopping"
                job.version += 1
                job._stop.set()
                job._running.set()  # wake a paused job so that it can stop

    def cancel(self, job_id: int, actor: Actor = LOCAL) -> None:
        """Take a waiting job out of the queue (its file too); NotAllowed for another's job."""
        with self._lock:
            job = self._job(job_id, actor, "cancel")
            if job.state != "waiting":
                raise NotAllowed(f"job {job_id} is {job.state}, not waiting: stop it instead")
            self._cancel(job)

    def _cancel(self, job: Job) -> None:
        if job.task_id is not None:
            self.runner.cancel(job.task_id)
        if job.queue_seq is not None:
            self.queue_folder.remove(job.queue_seq)
        job.state, job.finished = "cancelled", time.time()
        job.version += 1

    def edit(self, job_id: int, actor: Actor = LOCAL, **changes: Any) -> None:
        """Change learning rates, n_critic, penalty weights... of a running job. Validated now
        (a bad value raises ConfigError here), applied at the next epoch boundary, recorded in
        the run's edits.jsonl."""
        with self._lock:
            job = self._job(job_id, actor, "edit")
            edited = with_changes(job.config, {**job.pending_edits, **changes}, "live")  # refuses a bad edit now
            if not job.active:
                raise RuntimeError("the job has ended; fork the run to continue with other settings")
            job.pending_edits.update(changes)
            job.edited_config = edited

    def wait(self, job_id: int, timeout: Optional[float] = None) -> dict[str, Any]:
        job = self._jobs[job_id]
        if job.task_id is not None:
            self.runner.wait(job.task_id, timeout)
        return self.snapshot(job_id)

    # ---- views -------------------------------------------------------------------------
    def snapshot(self, job_id: int, series: bool = True) -> dict[str, Any]:
        """A copy of a job's state that a page can read without holding any lock; without
        `series`, its rows and running means are left out (a list or a queue panel)."""
        position = self.runner.position(self._jobs[job_id].task_id) if self._jobs[job_id].task_id else None
        with self._lock:
            j = self._jobs[job_id]
            p = j.progress
            return {
                "id": j.id, "state": j.state, "active": j.active, "run": j.run_path, "owner": j.owner,
                "run_name": Path(j.run_path).name if j.run_path else None, "position": position,
                "device": j.device, "version": (j.id, j.version, len(j.rows), len(j.stream)),
                "model": j.config.model, "dataset": j.config.dataset, "epochs": j.config.epochs,
                "epoch": p.epoch if p else (int(j.rows[-1]["epoch"]) if j.rows else 0),
                "epochs_done": int(j.rows[-1]["epoch"]) if j.rows else 0,
                "step": p.step if p else 0, "steps_per_epoch": p.steps_per_epoch if p else 0,
                "fraction": p.fraction if p else 0.0, "elapsed_s": p.elapsed_s if p else 0.0,
                "eta_s": p.eta_s if p else None,
                "rows": [dict(r) for r in j.rows] if series else [],
                "stream": [dict(r) for r in j.stream] if series else [],
                "error": j.error, "traceback": j.traceback, "config": j.config.to_dict(),
                "pending_edits": dict(j.pending_edits), "queued_at": j.started, "finished": j.finished,
                "loading": j.loading,
            }

    def jobs(self, series: bool = True) -> list[dict[str, Any]]:
        return [self.snapshot(i, series) for i in sorted(self._jobs)]

    def queue(self) -> list[dict[str, Any]]:
        """The waiting jobs in queue order, each with its position (no series)."""
        waiting = [s for s in self.jobs(series=False) if s["state"] == "waiting"]
        return sorted(waiting, key=lambda s: (s["position"] or 0, s["id"]))

    def current(self, owner: Optional[str] = None, series: bool = True) -> Optional[dict[str, Any]]:
        """The newest active job (of `owner`, when given), else the latest one, else None."""
        with self._lock:
            ids = sorted(i for i, j in self._jobs.items() if owner is None or j.owner == owner)
            active = [i for i in ids if self._jobs[i].active]
        pick = active[-1] if active else (ids[-1] if ids else None)
        return self.snapshot(pick, series) if pick is not None else None

    # ---- the worker --------------------------------------------------------------------
    def _work(self, job: Job, task: Task) -> None:
        with self._lock:
            if job.queue_seq is not None:  # it starts: no longer a waiting job to restore
                self.queue_folder.remove(job.queue_seq)
                job.queue_seq = None
            if job.state == "waiting":
                job.state = "queued"
            job.started, job.device, job.version = time.time(), task.device, job.version + 1
            cfg = self._placed(job.config, task)
            job.config = cfg

        def bump() -> None:  # called under the lock
            job.version += 1

        def on_parked() -> None:
            with self._lock:
                if job.state == "pausing":
                    job.state = "paused"
                    bump()

        def on_start(run: Run) -> None:
            rows, stream = run.metrics(), run.stream()  # a resumed run's earlier epochs: charts start whole
            with self._lock:
                job.run_path = str(run.path)
                job.rows = rows
                job.stream = stream[-STREAM_KEEP:]
                if job.state == "queued":  # a job paused while loading stays "pausing"
                    job.state = "running"
                bump()

        def on_progress(p: TrainProgress) -> None:
            with self._lock:
                job.progress = p

        def on_epoch(row: dict[str, float]) -> None:
            with self._lock:
                job.rows.append(dict(row))
                bump()

        def on_stream(row: dict[str, Any]) -> None:
            with self._lock:
                job.stream.append(dict(row))
                if len(job.stream) > STREAM_KEEP:  # a long run: keep the first row and every other one
                    job.stream[:] = job.stream[:1] + job.stream[2::2]
                bump()

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
                       pending_edits=pending_edits, on_data=on_data)
        try:
            out = EXECUTORS[self.executor](cfg, runs_dir=self.runs_dir, resume=job.resume, owner=job.owner,
                                           callbacks=cb, steering=Steering(job._stop, job._running, on_parked))
            with self._lock:
                job.state, job.error, job.traceback = out.state, out.error, out.traceback
                if out.rows is not None:
                    job.rows = [dict(r) for r in out.rows]
        finally:
            with self._lock:
                job.finished = time.time()
                bump()

    def _placed(self, cfg: TrainConfig, task: Task) -> TrainConfig:
        """The config on the GPU the runner gave the task (several GPUs), with its share of the
        CPU threads (several slots on a CPU)."""
        changes: dict[str, Any] = {}
        if task.device is not None and cfg.device in ("auto", "cuda"):
            changes["device"] = f"cuda:{task.device}"
        threads = self.runner.threads_per_task()
        if threads and not cfg.cpu_threads:
            changes["cpu_threads"] = threads
        return cfg.replace(**changes) if changes else cfg


def default_executor(settings: ServerSettings) -> str:
    """Where jobs train: $GANLIB_JOB_PROCESSES (1 or 0) if set, else a child process on a shared
    server with `job_processes` on (the default there), else this process's thread."""
    env = os.environ.get("GANLIB_JOB_PROCESSES", "").strip()
    if env in ("0", "1"):
        return "process" if env == "1" else "thread"
    return "process" if settings.shared and settings.job_processes else "thread"

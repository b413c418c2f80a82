"""The dashboard's process-wide objects, each one per server process (`st.cache_resource`) and
shared by every browser tab: the server settings, the sign-in limiter, the one background-task
runner, the job manager and the augmentation runner built on it; and the device `auto`
resolves to.

    settings = resources.server_settings()   # server.toml ($GANLIB_SERVER_CONFIG), re-read when it changes
    tasks = resources.task_runner()          # its one admission rule: one task at a time by default
    jm = resources.get_job_manager()         # per runs folder ($GANLIB_RUNS_DIR, read at call time)
    aug = resources.augment_runner()

These objects are thread-safe; their threads never call Streamlit (pages poll their snapshots).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from ganlib.core.devices import resolve_device
from ganlib.engine.jobs import JobManager
from ganlib.engine.tasks import Limits, TaskRunner, default_slots
from ganlib.explore.augment_jobs import AugmentRunner
from ganlib.store.server_settings import ServerSettings, load_settings, settings_file
from ganlib.store.users import SignInLimiter
from ganlib.ui.pickers import runs_root


def _settings_key() -> tuple[str, float]:
    path = settings_file()
    try:
        return str(path), path.stat().st_mtime
    except OSError:
        return str(path), 0.0


def server_settings() -> ServerSettings:
    """The teacher's settings (no file: a laptop's defaults), read once per version of the file."""
    return _settings(*_settings_key())


@st.cache_resource(show_spinner=False, max_entries=4)
def _settings(path: str, mtime: float) -> ServerSettings:
    return load_settings(Path(path))


@st.cache_resource(show_spinner=False, max_entries=4)
def _limiter(max_failures: int, window_s: int) -> SignInLimiter:
    return SignInLimiter(max_failures, window_s)


def signin_limiter() -> SignInLimiter:
    """One per process: failed sign-ins per name and per client, across every session."""
    s = server_settings()
    return _limiter(s.max_signin_failures, s.lockout_s)


def task_runner() -> TaskRunner:
    """The process's one runner of background work: training jobs, augmentation experiments
    and the playground are its tasks. A shared server's queues training jobs."""
    s = server_settings()
    return _task_runner(default_slots(s.slots), s.shared, s.max_running_per_user, s.max_queued_per_user)


@st.cache_resource(show_spinner=False)
def _task_runner(slots: int, queueing: bool, running: int, queued: int) -> TaskRunner:
    return TaskRunner(slots, queueing=queueing, limits=Limits(running, queued))


def get_job_manager() -> JobManager:
    return job_manager_for(str(runs_root()))


def job_manager_for(root: str) -> JobManager:
    return _job_manager(root, *_settings_key())


@st.cache_resource(show_spinner=False)
def _job_manager(root: str, settings_path: str, mtime: float) -> JobManager:
    """One JobManager per process, runs folder and settings; every session shares it (it is
    thread-safe). A shared server's re-queues the waiting jobs it finds in the runs folder."""
    return JobManager(runs_dir=root, runner=task_runner(), settings=server_settings())


@st.cache_resource(show_spinner=False)
def augment_runner() -> AugmentRunner:
    """One per server process: the latest experiment, watched from any tab."""
    return AugmentRunner(task_runner())


@st.cache_data(show_spinner=False, ttl=60)
def device_info() -> dict[str, Any]:
    """What `device="auto"` resolves to here, with a readable name (torch stays out of pages)."""
    dev = resolve_device("auto")
    info: dict[str, Any] = {"device": str(dev), "cuda": dev.type == "cuda", "torch": torch.__version__}
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info["name"] = torch.cuda.get_device_name(dev)
        info["memory_gb"] = round(props.total_memory / 2**30, 1)
    else:
        info["name"] = f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"
    return info

"""The dashboard's process-wide objects, each one per server process (`st.cache_resource`) and
shared by every browser tab: the one background-task runner, the job manager and the
augmentation runner built on it; and the device `auto` resolves to.

    tasks = resources.task_runner()          # its one admission rule: one task at a time by default
    jm = resources.get_job_manager()         # per runs folder ($GANLIB_RUNS_DIR, read at call time)
    aug = resources.augment_runner()

These objects are thread-safe; their threads never call Streamlit (pages poll their snapshots).
"""
from __future__ import annotations

import os
from typing import Any

import streamlit as st
import torch

from ganlib.core.devices import resolve_device
from ganlib.engine.jobs import JobManager
from ganlib.engine.tasks import TaskRunner
from ganlib.explore.augment_jobs import AugmentRunner
from ganlib.ui.pickers import runs_root


@st.cache_resource(show_spinner=False)
def task_runner() -> TaskRunner:
    """The process's one runner of background work: training jobs, augmentation experiments
    and the playground are its tasks."""
    return TaskRunner()


@st.cache_resource(show_spinner=False)
def job_manager_for(root: str) -> JobManager:
    """One JobManager per process and runs folder; every session shares it (it is thread-safe)."""
    return JobManager(runs_dir=root, runner=task_runner())


def get_job_manager() -> JobManager:
    return job_manager_for(str(runs_root()))


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

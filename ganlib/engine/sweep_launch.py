"""Start a sweep in its own process, as the Sweeps page does: `python -m ganlib sweep` with the
spec written into a new sweep folder, its output in the folder's sweep.log. The dashboard never
imports Ray; the sweep process starts (or joins) the Ray cluster and ends with the sweep."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ganlib.store.sweep_folder import Sweep, new_sweep_dir
from ganlib.store.sweep_spec import SweepSpec

REPO = Path(__file__).resolve().parents[2]


def launch(spec: SweepSpec, root: str | Path | None = None, address: Optional[str] = None) -> Sweep:
    sweep = new_sweep_dir(spec, root)
    cmd = [sys.executable, "-m", "ganlib", "sweep", str(sweep.spec_file), "--sweep-dir", str(sweep.path), "--quiet"]
    if address:
        cmd += ["--address", address]
    sweep.write_status(state="starting", error=None)  # the sweep process writes "running" and its pid
    with open(sweep.log_file, "ab") as log:
        subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    return sweep


def alive(sweep: Sweep) -> bool:
    """Whether the sweep's process still runs (a killed sweep's status.json still says running)."""
    pid = sweep.status().get("pid")
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a finished child of this process stays a zombie until it is reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:  # not our child: it exists, so it runs
        return True

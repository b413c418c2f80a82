"""A shared server's jobs train in child processes (engine/job_executors.py): the job manager's
commands and views behave as with a thread, and a child that dies or loses its server leaves
its run in a state that says so."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganlib.engine.jobs import JobManager, default_executor
from ganlib.store.run_folder import Run, pid_alive
from ganlib.store.server_settings import ServerSettings
from tests.helpers import REPO, eventually


def test_where_jobs_train(monkeypatch):
    monkeypatch.delenv("GANLIB_JOB_PROCESSES", raising=False)
    assert default_executor(ServerSettings()) == "thread"  # a laptop: the job's own thread
    assert default_executor(ServerSettings(shared=True)) == "process"
    assert default_executor(ServerSettings(shared=True, job_processes=False)) == "thread"
    monkeypatch.setenv("GANLIB_JOB_PROCESSES", "1")
    assert default_executor(ServerSettings()) == "process"
    monkeypatch.setenv("GANLIB_JOB_PROCESSES", "0")
    assert default_executor(ServerSettings(shared=True)) == "thread"
    with pytest.raises(ValueError, match="unknown executor"):
        JobManager(executor="fibre")


def _long_job_in_a_child(tiny_cfg, tmp_path, epochs_done: int):
    """A job training in a child process, once it has `epochs_done` epochs: (manager, job, run)."""
    jm = JobManager(tmp_path, executor="process")
    jid = jm.start(tiny_cfg(epochs=5000, checkpoint_every=1, eval_every=0))
    assert eventually(lambda: len(jm.snapshot(jid)["rows"]) >= epochs_done, 90)
    return jm, jid, Run(Path(jm.snapshot(jid)["run"]))


@pytest.mark.slow
def test_a_child_process_job_edits_pauses_resumes_and_stops(tiny_cfg, tmp_path):
    jm, jid, run = _long_job_in_a_child(tiny_cfg, tmp_path, 1)
    child = run.status()["pid"]
    assert child != os.getpid() and pid_alive(child)  # the training is not in this process

    jm.edit(jid, lr_g=1e-3)  # applied at the next epoch boundary, recorded by the child
    assert eventually(lambda: run.edits() and jm.snapshot(jid)["config"]["lr_g"] == 1e-3)
    assert run.edits()[0]["changes"] == {"lr_g": [2e-4, 1e-3]} and run.edits()[0]["source"] == "live"

    jm.pause(jid)
    assert eventually(lambda: jm.snapshot(jid)["state"] == "paused")
    assert run.status()["state"] == "paused" and run.status()["pid"] == child  # the child says so itself
    s1 = jm.snapshot(jid)
    time.sleep(1.0)
    s2 = jm.snapshot(jid)
    assert (s1["epoch"], s1["step"], len(s1["rows"])) == (s2["epoch"], s2["step"], len(s2["rows"]))

    jm.resume(jid)
    assert eventually(lambda: len(jm.snapshot(jid)["rows"]) > len(s2["rows"]))
    assert run.status()["state"] == "running"
    jm.stop(jid)
    snap = jm.wait(jid, timeout=90)
    assert snap["state"] == "stopped" and run.status()["state"] == "stopped"
    assert run.latest_checkpoint() is not None and [r["epoch"] for r in snap["rows"]] == \
        list(range(1, len(snap["rows"]) + 1))
    assert eventually(lambda: not pid_alive(child), 10)

    bad = jm.start(tiny_cfg(dataset="folder", data_path=str(tmp_path / "nope")))  # fails in the child, said here
    snap = jm.wait(bad, timeout=90)
    assert snap["state"] == "failed" and "not a folder" in snap["error"] and snap["run"] is None


@pytest.mark.slow
def test_a_killed_child_fails_its_job_and_its_run_says_why(tiny_cfg, tmp_path):
    jm, jid, run = _long_job_in_a_child(tiny_cfg, tmp_path, 2)
    os.kill(run.status()["pid"], signal.SIGKILL)  # what the kernel's OOM killer does
    snap = jm.wait(jid, timeout=60)
    saved = run.checkpoints()[-1][0]
    assert snap["state"] == "failed" and "SIGKILL" in snap["error"]
    assert f"the last good epoch ({saved}) is kept" in snap["error"] and "Resume the run" in snap["error"]
    assert run.status()["state"] == "failed" and "SIGKILL" in run.status()["error"]
    assert run.latest_checkpoint() is not None


@pytest.mark.slow
def test_a_terminated_child_stops_cleanly(tiny_cfg, tmp_path):
    jm, jid, run = _long_job_in_a_child(tiny_cfg, tmp_path, 2)
    os.kill(run.status()["pid"], signal.SIGTERM)  # `kill PID`, a system shutting down
    snap = jm.wait(jid, timeout=60)
    assert snap["state"] == "stopped" and snap["error"] is None and run.status()["state"] == "stopped"
    assert run.latest_checkpoint() is not None


PARENT = """
import sys, time
from ganlib.engine.jobs import JobManager
from ganlib.store.config import TrainConfig
if __name__ == "__main__":
    jm = JobManager(sys.argv[1], executor="process")
    jid = jm.start(TrainConfig(max_images=512, batch_size=64, epochs=5000, device="cpu", eval_every=0))
    while len(jm.snapshot(jid)["rows"]) < 2:
        time.sleep(0.05)
    print(jm.snapshot(jid)["run"], flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_a_child_whose_server_dies_stops_and_keeps_its_checkpoint(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runs")], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        run = Run(Path(server.stdout.readline().strip()))
        child = run.status()["pid"]
        server.kill()  # the server is gone at once: no atexit, no SIGTERM to the child
        server.wait(30)
        assert eventually(lambda: not pid_alive(child), 60)
        st = json.loads((run.path / "status.json").read_text())
        assert st["state"] == "stopped" and st["pid"] == child
        assert run.latest_checkpoint() is not None
    finally:
        if server.poll() is None:
            server.kill()


def test_a_child_killed_before_its_first_checkpoint_says_there_is_none(tmp_path):
    from ganlib.engine.job_executors import _died

    (tmp_path / "run").mkdir()
    out = _died(-9, str(tmp_path / "run"))
    assert out.state == "failed" and "SIGKILL" in out.error and "no checkpoint to resume from" in out.error
    assert "Resume" not in out.error and Run(tmp_path / "run").status()["error"] == out.error

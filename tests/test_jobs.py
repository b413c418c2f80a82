import time
from pathlib import Path

import pytest

from ganlib.engine.jobs import JobManager
from ganlib.engine.tasks import TaskBusy, TaskRunner
from ganlib.store.run_folder import Run
from tests.helpers import eventually


def test_job_runs_in_background_and_completes(tiny_cfg, tmp_path):
    jm = JobManager(tmp_path)
    jid = jm.start(tiny_cfg(epochs=2))
    snap = jm.wait(jid, timeout=120)
    assert snap["state"] == "completed" and not snap["active"]
    assert [r["epoch"] for r in snap["rows"]] == [1, 2]
    assert snap["run"] and snap["fraction"] == pytest.approx(1.0)
    assert jm.current()["id"] == jid


@pytest.mark.slow
def test_one_job_at_a_time_pause_and_stop(tiny_cfg, tmp_path):
    jm = JobManager(tmp_path)
    jid = jm.start(tiny_cfg(epochs=500, max_images=0, checkpoint_every=1000))
    with pytest.raises(TaskBusy):
        jm.start(tiny_cfg())
    assert eventually(lambda: jm.snapshot(jid)["step"] > 0)
    jm.pause(jid)
    assert jm.snapshot(jid)["state"] in ("pausing", "paused")
    assert eventually(lambda: jm.snapshot(jid)["state"] == "paused")  # parked at a step boundary
    s1 = jm.snapshot(jid)
    time.sleep(1.0)
    s2 = jm.snapshot(jid)
    assert s1["state"] == s2["state"] == "paused"
    assert (s1["epoch"], s1["step"]) == (s2["epoch"], s2["step"])  # no progress while paused
    assert Run(Path(s2["run"])).status()["state"] == "paused"  # the run says so (the trainer writes it)
    jm.resume(jid)
    assert eventually(lambda: (jm.snapshot(jid)["epoch"], jm.snapshot(jid)["step"]) != (s2["epoch"], s2["step"]))
    assert Run(Path(s2["run"])).status()["state"] == "running"
    jm.stop(jid)
    snap = jm.wait(jid, timeout=60)
    assert snap["state"] == "stopped"
    jid2 = jm.start(tiny_cfg(epochs=1))  # the slot is free again
    assert jm.wait(jid2, timeout=120)["state"] == "completed"


def test_stop_while_paused(tiny_cfg, tmp_path):
    jm = JobManager(tmp_path)
    jid = jm.start(tiny_cfg(epochs=500, max_images=0, checkpoint_every=1000))
    assert eventually(lambda: jm.snapshot(jid)["step"] > 0)
    jm.pause(jid)
    jm.stop(jid)
    assert jm.wait(jid, timeout=60)["state"] == "stopped"


def test_bad_setup_becomes_a_failed_job_with_message(tiny_cfg, tmp_path):
    jm = JobManager(tmp_path)
    jid = jm.start(tiny_cfg(dataset="folder", data_path=str(tmp_path / "nope")))
    snap = jm.wait(jid, timeout=60)
    assert snap["state"] == "failed" and "not a folder" in snap["error"] and snap["run"] is None


def test_one_admission_rule_for_every_kind_of_task(tiny_cfg, tmp_path):
    """A training job, an augmentation experiment and the playground share one runner: while
    one holds the slot the others are refused with its name; its end frees the slot."""
    from ganlib.explore.augment_jobs import AugmentRunner
    from ganlib.explore.augmentation import AugmentSettings
    from ganlib.explore.playground import PlaygroundRunner
    from ganlib.store.run_folder import Run

    tasks = TaskRunner(slots=1)
    jm = JobManager(tmp_path, runner=tasks)
    jid = jm.start(tiny_cfg(epochs=500, max_images=0, checkpoint_every=1000))
    try:
        with pytest.raises(TaskBusy, match=f"Training job {jid}"):
            PlaygroundRunner(tasks=tasks).play()
        with pytest.raises(TaskBusy, match="One task runs at a time"):
            AugmentRunner(tasks).start(Run(tmp_path / "any"), AugmentSettings())
        assert tasks.refusal("augmentation") and [t["kind"] for t in tasks.active()] == ["training"]
    finally:
        jm.stop(jid)
        jm.wait(jid, timeout=60)
    assert eventually(lambda: tasks.refusal("playground") is None)
    pg = PlaygroundRunner(tasks=tasks, speed=2, tick_s=0.01)
    try:
        pg.play()
        assert tasks.refusal("training")  # the playground holds the slot while it plays...
        pg.pause()
        assert eventually(lambda: tasks.refusal("training") is None)  # ...and frees it on a pause
    finally:
        pg.close()
    two = TaskRunner(slots=2)  # more slots (a GPU machine): two tasks run side by side
    a = two.submit("training", "a", lambda stop: stop.wait(5))
    two.submit("augmentation", "b", lambda stop: stop.wait(5))
    with pytest.raises(TaskBusy, match="a; b are running. 2 tasks run"):
        two.submit("playground", "c", lambda stop: None)
    for t in two.active():
        two.stop(t["id"])
    two.wait(a.id, timeout=5)
    with pytest.raises(ValueError, match="unknown task kind"):
        two.refusal("render")

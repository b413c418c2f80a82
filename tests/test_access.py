"""Issue 24, a server a class can share, in the library: owners and who may manage a run, the
job manager's refusals, confined data paths, uploads, accounts and the sign-in limiter, the
settings and the address rule, and the job queue (FIFO, per-user limits, positions, cancel,
a restart, several GPUs). Everything here is fast: queued jobs never train."""
from __future__ import annotations

import json
import os
import threading
import time
import tomllib
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from ganlib.core.errors import BadValue, NotAllowed
from ganlib.engine.forks import fork
from ganlib.engine.jobs import JobManager
from ganlib.engine.tasks import Limits, TaskBusy, TaskRunner
from ganlib.interchange.export import export_zip
from ganlib.interchange.tensorboard import write_tensorboard
from ganlib.interchange.untrusted import ImportRefused
from ganlib.interchange.uploads import unpack_images
from ganlib.store.access import LOCAL, Actor, delete_run, require
from ganlib.store.config import TrainConfig
from ganlib.store.queue_folder import QueueFolder
from ganlib.store.server_settings import ServerSettings, is_loopback, load_settings
from ganlib.store.users import SignInLimiter, UsersFile
from tests.helpers import REPO

ADA, BEN, TEACHER = Actor("ada"), Actor("ben"), Actor("mrs-b", "teacher")
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the same argon2id, test-sized


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"max_images": 256, "batch_size": 64, "epochs": 1, "device": "cpu", **kw})


def blocked_runner(**kw) -> tuple[TaskRunner, threading.Event]:
    """A queueing runner whose one slot is held until the event is set: jobs submitted to it wait."""
    runner = TaskRunner(1, queueing=True, devices=0, **kw)
    release = threading.Event()
    runner.submit("training", "blocker", lambda task: release.wait(30))
    return runner, release


# ---- owners -----------------------------------------------------------------------------------
def test_runs_record_their_owner_and_only_the_owner_or_a_teacher_manages(runs):
    run = runs.mlp
    assert run.owner() == "local"  # trained by the library's default actor (the CLI, a laptop)
    run.owner_file.unlink()
    assert run.owner() is None  # a run from before owners: readable by all, managed by a teacher
    with pytest.raises(NotAllowed, match="only a teacher"):
        require(ADA, run, "stop")
    require(TEACHER, run, "delete")
    require(LOCAL, run, "export")  # the CLI and a laptop are a teacher
    run.write_owner("ada")
    assert run.owner() == "ada"
    require(ADA, run, "fork")
    for action in ("start", "pause", "resume", "stop", "edit", "fork", "export", "delete"):
        with pytest.raises(NotAllowed, match="ada's"):
            require(BEN, run, action)


def test_fork_export_logs_and_delete_refuse_another_users_run(runs, tmp_path):
    runs.cgan.write_owner("ada")
    with pytest.raises(NotAllowed):
        fork(runs.cgan, {"lr_g": 1e-4}, runs_dir=tmp_path, actor=BEN)
    with pytest.raises(NotAllowed):
        export_zip(runs.cgan, actor=BEN)
    with pytest.raises(NotAllowed):
        write_tensorboard(runs.cgan, BEN)
    with pytest.raises(NotAllowed):
        delete_run(runs.cgan, BEN)
    assert runs.cgan.config_file.is_file() and not list(tmp_path.iterdir())
    child = fork(runs.cgan, {"lr_g": 1e-4}, runs_dir=tmp_path, actor=ADA)
    assert child.owner() == "ada"  # a fork belongs to whoever made it
    assert export_zip(runs.cgan, actor=ADA)[:2] == b"PK"
    delete_run(child, TEACHER)
    assert not child.path.exists()


def test_a_new_run_belongs_to_the_user_who_started_it(tmp_path):
    jm = JobManager(tmp_path, runner=TaskRunner(1, devices=0))
    snap = jm.wait(jm.start(cfg(), actor=ADA), timeout=120)
    assert snap["state"] == "completed" and snap["owner"] == "ada"
    from ganlib.store.run_folder import Run
    assert Run(Path(snap["run"])).owner() == "ada"
    with pytest.raises(NotAllowed):
        jm.start(cfg(epochs=2), resume=snap["run"], actor=BEN)  # another user's run cannot be resumed


def test_the_job_manager_refuses_commands_on_another_users_job(tmp_path):
    runner, release = blocked_runner()
    try:
        jm = JobManager(tmp_path, runner=runner)
        job = jm.start(cfg(), actor=ADA)
        assert jm.snapshot(job)["state"] == "waiting"
        for command in (jm.pause, jm.resume, jm.stop, jm.cancel):
            with pytest.raises(NotAllowed, match="ada's"):
                command(job, BEN)
        with pytest.raises(NotAllowed):
            jm.edit(job, BEN, lr_g=1e-3)
        assert jm.snapshot(job)["state"] == "waiting"
        jm.cancel(job, TEACHER)  # the teacher manages every job
        assert jm.snapshot(job)["state"] == "cancelled" and not jm.queue()
    finally:
        release.set()


# ---- confined data paths ------------------------------------------------------------------------
def shared(tmp_path, **kw) -> ServerSettings:
    allowed = tmp_path / "data"
    (allowed / "digits").mkdir(parents=True)
    return ServerSettings(shared=True, data_roots=(str(allowed),), uploads_dir=str(tmp_path / "uploads"), **kw)


def test_a_data_path_outside_the_roots_is_refused_dotdot_and_symlinks_included(tmp_path):
    s = shared(tmp_path)
    ok = tmp_path / "data" / "digits"
    assert s.check_data_path(ADA, str(ok)) == ok.resolve()
    secret = tmp_path / "secret"
    secret.mkdir()
    (tmp_path / "data" / "link").symlink_to(secret)  # inside the root by name, outside once followed
    for bad in (str(secret), str(ok / ".." / ".." / "secret"), str(tmp_path / "data" / "link"), "/etc",
                str(tmp_path / "data-other")):
        with pytest.raises(NotAllowed, match="data path"):
            s.check_data_path(ADA, bad)
    mine = s.uploads_of(ADA) / "cats"
    mine.mkdir(parents=True)
    s.check_data_path(ADA, str(mine))
    with pytest.raises(NotAllowed):
        s.check_data_path(BEN, str(mine))  # another user's uploads are theirs
    with pytest.raises(NotAllowed):  # the job manager confines too, before anything is read
        JobManager(tmp_path, runner=TaskRunner(1, devices=0), settings=s).start(
            cfg(dataset="folder", data_path=str(secret)), actor=ADA)
    assert ServerSettings().check_data_path(ADA, str(secret)) == secret.resolve()  # a laptop: any path


def test_the_inception_weights_are_the_teachers_setting(tmp_path):
    s = shared(tmp_path, inception_weights="/srv/pt_inception.pth")
    with pytest.raises(NotAllowed, match="teacher"):
        s.confine(ADA, cfg(inception_weights="/home/ben/x.pth"))
    assert s.confine(ADA, cfg()).inception_weights == "/srv/pt_inception.pth"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_uploads_unpack_images_into_the_users_folder_and_refuse_the_rest(tmp_path):
    from PIL import Image

    png = BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    dest = tmp_path / "uploads" / "ada"
    folder = unpack_images(_zip({"cats/a.png": png.getvalue(), "cats/b.png": png.getvalue()}), "my cats.zip",
                           dest, max_mb=1, max_files=10)
    assert folder == dest / "my_cats" and sorted(p.name for p in folder.rglob("*.png")) == ["a.png", "b.png"]
    hostile = {"a pickle": {"x.png": b"", "model.pkl": b"x"}, "a ..": {"../evil.png": b"x"},
               "an absolute path": {"/etc/evil.png": b"x"}, "too many files": {f"{i}.png": b"x" for i in range(11)}}
    for what, members in hostile.items():
        with pytest.raises(ImportRefused, match="."):  # {what} is refused
            print(what)
            unpack_images(_zip(members), "bad.zip", dest, max_mb=1, max_files=10)
    with pytest.raises(ImportRefused, match="limited to 1 MiB"):
        unpack_images(b"PK" + os.urandom(2 << 20), "big.zip", dest, max_mb=1, max_files=10)
    bomb = BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.png", b"\0" * (3 << 20))  # 3 MiB unpacked from a few KiB
    with pytest.raises(ImportRefused, match="unpack to"):
        unpack_images(bomb.getvalue(), "bomb.zip", dest, max_mb=1, max_files=10)
    assert sorted(p.name for p in dest.iterdir()) == ["my_cats"]  # nothing half-made was left


# ---- accounts and sign-in -----------------------------------------------------------------------
def test_users_file_holds_salted_hashes_and_verifies(tmp_path):
    users = UsersFile(tmp_path / "users.json", CHEAP)
    users.add("ada", "correct horse", "student")
    users.add("mrs-b", "teacher pass", "teacher")
    text = (tmp_path / "users.json").read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    assert oct((tmp_path / "users.json").stat().st_mode & 0o777) == "0o600"
    users.add("ben", "correct horse")
    hashes = json.loads(text)["users"]
    assert hashes["ada"]["hash"] != json.loads((tmp_path / "users.json").read_text())["users"]["ben"]["hash"]  # salted
    assert users.verify("ada", "correct horse") == Actor("ada", "student")
    assert users.verify("mrs-b", "teacher pass").is_teacher
    assert users.verify("ada", "wrong password") is None and users.verify("nobody", "correct horse") is None
    assert users.verify("../evil", "correct horse") is None
    with pytest.raises(BadValue, match="at least 8"):
        users.add("cy", "short")
    with pytest.raises(BadValue, match="exists"):
        users.add("ada", "another one")
    users.set_class_password("class password")
    assert users.verify("newcomer", "class password") == Actor("newcomer", "student")
    assert users.verify("ada", "class password") is None  # a named account needs its own password


def test_failed_sign_ins_are_limited_per_name_and_per_client():
    now = [0.0]
    lim = SignInLimiter(3, 60, clock=lambda: now[0])
    for _ in range(3):
        assert lim.wait_s("ada", "10.0.0.1") == 0
        lim.failed("ada", "10.0.0.1")
    assert lim.wait_s("ada", "10.0.0.9") > 0  # the name, from anywhere
    assert lim.wait_s("ben", "10.0.0.1") > 0  # the client, for any name
    assert lim.wait_s("ben", "10.0.0.2") == 0
    now[0] = 61
    assert lim.wait_s("ada", "10.0.0.1") == 0  # the window passed


def test_users_cli_adds_and_lists(tmp_path, monkeypatch, capsys):
    from ganlib.cli import main

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("correct horse\n"))
    path = tmp_path / "users.json"
    assert main(["users", "--file", str(path), "add", "ada", "--password-stdin"]) == 0
    assert main(["users", "--file", str(path), "list"]) == 0
    assert "ada\tstudent" in capsys.readouterr().out
    assert UsersFile(path).verify("ada", "correct horse") == ADA
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert main(["users", "--file", str(path), "add", "ben", "--password-stdin"]) == 2


# ---- settings and the address rule ---------------------------------------------------------------
def test_the_default_config_listens_on_loopback_only():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert is_loopback(config["server"]["address"])
    assert not ServerSettings().shared  # no server.toml: a laptop


def test_the_app_refuses_a_network_address_without_shared_mode_and_sign_in(tmp_path):
    assert ServerSettings().startup_refusal("127.0.0.1") is None
    assert "shared mode is off" in ServerSettings().startup_refusal("0.0.0.0")
    assert "shared mode is off" in ServerSettings().startup_refusal(None)  # Streamlit's default: all interfaces
    s = ServerSettings(shared=True, users_file=str(tmp_path / "users.json"))
    assert "needs sign-in" in s.startup_refusal("0.0.0.0")
    assert s.startup_refusal("0.0.0.0", oidc=True) is None
    UsersFile(s.users_path, CHEAP).add("ada", "correct horse")
    assert s.startup_refusal("0.0.0.0") is None


def test_settings_file_refuses_typos(tmp_path):
    f = tmp_path / "server.toml"
    f.write_text('shared = true\ndata_roots = ["/srv/data"]\nmax_queued_per_user = 2\n')
    s = load_settings(f)
    assert s.shared and s.data_roots == ("/srv/data",) and s.max_queued_per_user == 2
    f.write_text("shraed = true\n")
    with pytest.raises(BadValue, match="unknown setting shraed"):
        load_settings(f)
    f.write_text('shared = "yes"\n')
    with pytest.raises(BadValue, match="must be a bool"):
        load_settings(f)


# ---- the queue -----------------------------------------------------------------------------------
def test_queue_is_fifo_with_per_user_limits_positions_and_cancel():
    runner = TaskRunner(1, queueing=True, limits=Limits(running=1, queued=2), devices=0)
    order, gates = [], {}

    def work(name):
        gates[name] = threading.Event()
        return lambda task: (order.append(name), gates[name].wait(10))

    a1 = runner.submit("training", "a1", work("a1"), owner="ada", queue=True)
    a2 = runner.submit("training", "a2", work("a2"), owner="ada", queue=True)
    b1 = runner.submit("training", "b1", work("b1"), owner="ben", queue=True)
    a3 = runner.submit("training", "a3", work("a3"), owner="ada", queue=True)
    with pytest.raises(TaskBusy, match="ada has 2 jobs waiting"):
        runner.submit("training", "a4", work("a4"), owner="ada", queue=True)
    assert [q["label"] for q in runner.queue()] == ["a2", "b1", "a3"]
    assert runner.position(b1.id) == 2
    runner.cancel(a3.id)
    assert [q["label"] for q in runner.queue()] == ["a2", "b1"]
    for name in ("a1", "a2", "b1"):
        deadline = time.time() + 10
        while name not in gates and time.time() < deadline:
            time.sleep(0.01)
        gates[name].set()
    for t in (a1, a2, b1):
        runner.wait(t.id, timeout=10)
    assert order == ["a1", "a2", "b1"] and runner.info(a3.id)["cancelled"]


def test_a_user_at_their_running_limit_does_not_hold_back_the_next_users_job():
    runner = TaskRunner(2, queueing=True, limits=Limits(running=1, queued=5), devices=0)
    release = threading.Event()
    hold = lambda task: release.wait(10)
    runner.submit("training", "a1", hold, owner="ada", queue=True)
    a2 = runner.submit("training", "a2", hold, owner="ada", queue=True)
    b1 = runner.submit("training", "b1", hold, owner="ben", queue=True)
    assert runner.info(b1.id)["active"] and runner.info(a2.id)["waiting"]  # ben's starts on the free slot
    release.set()


def test_jobs_are_spread_over_several_gpus():
    runner = TaskRunner(4, queueing=True, limits=Limits(running=4, queued=4), devices=2)
    release = threading.Event()
    tasks = [runner.submit("training", str(i), lambda task: release.wait(10), owner="ada", queue=True)
             for i in range(4)]
    assert sorted(runner.info(t.id)["device"] for t in tasks) == [0, 0, 1, 1]
    release.set()
    assert JobManager(runner=TaskRunner(1, devices=0))._placed(cfg(device="auto"), tasks[1]).device == \
        f"cuda:{tasks[1].device}"


def test_the_queue_survives_a_restart(tmp_path):
    runner, release = blocked_runner()
    try:
        jm = JobManager(tmp_path, runner=runner)
        jm.start(cfg(epochs=1), actor=ADA)
        jm.start(cfg(epochs=2), actor=BEN)
        assert len(QueueFolder(tmp_path).entries()) == 2
        assert [s["owner"] for s in jm.queue()] == ["ada", "ben"]
        # the server dies; a new process finds the files and re-queues them in order
        runner2, release2 = blocked_runner()
        jm2 = JobManager(tmp_path, runner=runner2)
        assert [(s["owner"], s["epochs"], s["position"]) for s in jm2.queue()] == [("ada", 1, 1), ("ben", 2, 2)]
        for snap in jm.queue():  # (the old process's jobs: gone with it in real life)
            jm.runner.cancel(jm._jobs[snap["id"]].task_id)
        ada2 = jm2.queue()[0]["id"]
        jm2.cancel(ada2, ADA)
        assert [e["owner"] for _, e in QueueFolder(tmp_path).entries()] == ["ben"]
        ben2 = jm2.queue()[0]["id"]
        release2.set()
        assert jm2.wait(ben2, timeout=120)["state"] == "completed"
        assert QueueFolder(tmp_path).entries() == []  # a started job is no longer a file
    finally:
        release.set()

"""Issue 24 through the pages: on a shared server nothing but the sign-in page renders until a user
signs in; wrong passwords are limited; a sign-in expires; a signed-in student sees another user's
run read-only (no export, no stop, no resume); a non-loopback address without shared mode is
refused. The server's settings come from $GANLIB_SERVER_CONFIG, a server.toml per test."""
from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from ganlib.store.users import UsersFile
from ganlib.ui.signin import SIGNED_IN
from tests.helpers import REPO, run, texts

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def shared_server(tmp_path, monkeypatch):
    """server.toml with shared mode on, two students and a teacher in its users file."""
    users = UsersFile(tmp_path / "users.json", CHEAP)
    users.add("ada", "correct horse")
    users.add("ben", "battery staple")
    users.add("mrs-b", "teacher pass", "teacher")
    settings = tmp_path / "server.toml"
    settings.write_text(f'shared = true\nusers_file = "{tmp_path / "users.json"}"\nmax_signin_failures = 3\n'
                        f'uploads_dir = "{tmp_path / "uploads"}"\n')
    monkeypatch.setenv("GANLIB_SERVER_CONFIG", str(settings))
    return settings


def app() -> AppTest:
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=60)


def submit(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return run(at)


def as_user(at: AppTest, name: str, role: str = "student") -> AppTest:
    at.session_state[SIGNED_IN] = {"name": name, "role": role, "via": "password", "expires": time.time() + 600}
    return at


def signed_page(path: str, name: str, role: str = "student") -> AppTest:
    """`helpers.page` for a signed-in user: the navigation exists only once someone is signed in."""
    at = run(as_user(app(), name, role))
    at.switch_page(path)
    return run(at)


def test_without_sign_in_only_the_sign_in_page_renders(shared_server, runs):
    at = run(app())
    assert [t.value for t in at.title] == ["GAN Workbench: sign in"]
    assert not at.dataframe and not at.sidebar.markdown  # no runs table, no navigation, no page
    assert at.text_input(key="signin_name") is not None


def test_sign_in_limits_wrong_passwords_and_lets_the_right_one_in(shared_server, runs):
    at = run(app())
    at = submit(at, "ada", "wrong password")
    assert "Wrong name or password" in texts(at.error)
    for _ in range(2):
        at = submit(at, "ada", "wrong password")
    at = submit(at, "ada", "correct horse")  # the right password, but too late: the name waits
    assert "Too many failed sign-ins" in texts(at.error)
    at2 = submit(run(app()), "ben", "battery staple")
    assert [t.value for t in at2.title] != ["GAN Workbench: sign in"]
    assert "Signed in as **ben** (student)" in texts(at2.sidebar.caption)


def test_a_sign_in_expires(shared_server, runs):
    at = as_user(app(), "ada")
    at.session_state[SIGNED_IN] = {**at.session_state[SIGNED_IN], "expires": time.time() - 1}
    run(at)
    assert [t.value for t in at.title] == ["GAN Workbench: sign in"]
    assert "expired" in texts(at.info)


def test_another_users_run_is_read_only_on_the_pages(shared_server, runs):
    runs.mlp.write_owner("ben")
    runs.cgan.write_owner("ada")
    at = signed_page("app_pages/export_import.py", "ada")
    at.selectbox(key="exp_run").set_value(runs.mlp.name)
    run(at)
    assert "you can read it" in texts(at.info)
    assert at.button(key="exp_tb").disabled
    at = signed_page("app_pages/train.py", "ada")
    at.segmented_control(key="train_mode").set_value("Resume a run")
    run(at)
    names = at.selectbox(key="resume_run").options
    assert any(runs.cgan.name in n for n in names)
    assert not any(runs.mlp.name in n for n in names)  # ben's run is not ada's to resume or delete
    at = signed_page("app_pages/sweeps.py", "ada")
    assert "started by the teacher" in texts(at.info) and not at.get("text_input")


def test_a_network_address_without_shared_mode_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_SERVER_CONFIG", str(tmp_path / "absent.toml"))
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = run(app())
    finally:
        st_config.set_option("server.address", before)
    assert "shared mode is off" in texts(at.error)
    assert not at.title and not at.text_input


def test_the_data_panel_reads_no_folder_outside_the_users_roots(shared_server, runs, tmp_path):
    """The Train form's preview would show the images of any folder the server can read: on a
    shared server a path outside the allowed roots (directly, by `..` or by a symlink in the
    user's own uploads) is refused in the panel before it is read."""
    from PIL import Image

    private = tmp_path / "private" / "faces"
    private.mkdir(parents=True)
    for i in range(4):
        Image.new("RGB", (32, 32), (i * 60, 0, 0)).save(private / f"{i}.png")
    mine = tmp_path / "uploads" / "ada"
    mine.mkdir(parents=True)
    (mine / "link").symlink_to(private.parent)
    at = signed_page("app_pages/train.py", "ada")
    at.selectbox(key="cfg_dataset").set_value("folder")
    run(at)
    for path in (str(private.parent), str(mine / ".." / ".." / "private"), str(mine / "link")):
        at.text_input(key="cfg_data_path").input(path)
        run(at)
        assert "on this shared server data must come from" in texts(at.error), path
        assert "The data, as it will be trained" not in "\n".join(str(m.value) for m in at.markdown)
        assert not [im for im in at.image if "as trained" in (im.proto.imgs[0].caption or "")]

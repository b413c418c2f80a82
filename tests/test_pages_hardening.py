"""Issue 11 on the dashboard: a value typed out of range names its field and disables Start;
Home describes every page and lists a run with a broken metrics.csv; Generate says "first
checkpoint at epoch N" as information during a run and offers a new random seed at once; a
clone into Train raises no Streamlit warning."""
from __future__ import annotations

import shutil

import pytest

from ganlib.engine.training import train  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402
from tests.helpers import page, run


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return train(TrainConfig(model="mlp_gan", loss="nonsaturating", epochs=1, max_images=256, batch_size=64,
                             device="cpu", eval_every=0), runs_dir=root).run


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("field, value, words", [
    ("epochs", -3, "must be between 1 and 5,000, got -3"),
    ("epochs", 0, "must be between 1 and 5,000, got 0"),
    ("image_size", 31, ""),  # the conv model's own rule names it too
    ("batch_size", 100000, "must be between 1 and 4,096, got 100000"),
])
def test_a_number_out_of_range_names_the_field_and_disables_start(runs_root, field, value, words):
    at = run(page("app_pages/train.py"))
    at.number_input(key=f"cfg_{field}").set_value(value)
    run(at)
    errors = [e.value for e in at.error]
    assert any(f"**{field}**" in e and words in e for e in errors), errors
    assert at.button(key="start").disabled


def test_home_lists_a_run_with_a_broken_metrics_csv(finished, runs_root):
    shutil.copytree(finished.path, runs_root / finished.name)
    broken = Run(runs_root / "00007-mlp_gan-mnist5k")
    shutil.copytree(finished.path, broken.path)
    broken.write_metrics_csv("epoch,d_loss,g_loss\n1,0.5,0.5\nabc,x,1e400\n")
    at = run(page("app_pages/home.py"))
    df = at.dataframe[0].value.set_index("run")
    assert df.loc[finished.name, "epoch"] == 1
    assert "metrics.csv: the last epoch is 'abc'" in df.loc[broken.name, "error"]


def test_generate_before_the_first_checkpoint_is_information_and_the_seed_button_is_there(finished, runs_root):
    live = Run(runs_root / "00005-mlp_gan-mnist5k")
    live.path.mkdir()
    live.save_config(TrainConfig(model="mlp_gan", loss="nonsaturating", checkpoint_every=10))
    live.write_status(state="running")  # by this process: alive
    shutil.copytree(finished.path, runs_root / finished.name)
    at = run(page("app_pages/generate.py"))  # the newest run, the live one, is picked first
    assert not at.error
    assert any("has no checkpoint yet: the first is written at the end of epoch 10" in i.value for i in at.info)
    at.selectbox(key="gen_run").set_value(finished.name)
    run(at)
    at.checkbox(key="gen_random").check()
    run(at)
    assert at.button(key="gen_reroll")  # at once, not only after another widget changed
    seed = at.session_state["_generate_random_seed"]
    at.button(key="gen_reroll").click()
    run(at)
    assert at.session_state["_generate_random_seed"] != seed


def test_a_clone_into_train_raises_no_widget_warning(finished, runs_root, monkeypatch):
    """Streamlit warns (once per process, and only under a real server) when a widget gets a
    default beside a value set through the session state: record what the mode control gets."""
    from streamlit.elements.lib import policies

    defaults: list = []
    original = policies.check_session_state_rules

    def record(default_value, key, writes_allowed=True):
        if key == "train_mode" or (key or "").startswith("cfg_"):
            defaults.append((key, default_value))
        return original(default_value=default_value, key=key, writes_allowed=writes_allowed)

    monkeypatch.setattr(policies, "check_session_state_rules", record)
    at = page("app_pages/train.py")
    at.session_state["train_prefill"] = {**finished.config().to_dict(), "epochs": 7}
    run(at)
    assert at.number_input(key="cfg_epochs").value == 7
    # the clone set the mode and every field through the session state: no default beside them
    assert ("train_mode", None) in defaults and len(defaults) > 20
    assert [(k, d) for k, d in defaults if d is not None] == []

"""`python -m ganlib augment` and the Augment page on a real tiny conditional run trained on
mnist5k's train split (512 digits, 2 epochs), with tiny experiment settings."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganlib.cli import main  # noqa: E402
from ganlib.engine.training import train  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402
from tests.helpers import page as page_at  # noqa: E402
from tests.helpers import run  # noqa: E402

pytestmark = pytest.mark.slow
TINY_EXPERIMENT = ["--real-per-class", "5,10", "--generated-per-class", "20", "--seeds", "2", "--steps", "20",
                   "--device", "cpu"]


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A conditional run on the train split, and a copy whose config says it trained on all of mnist5k."""
    root = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(dataset="mnist5k_train", max_images=512, batch_size=64, epochs=2, device="cpu", eval_every=0)
    good = train(cfg, runs_dir=root).run
    saw_all = Run(root / "00001-cdcgan_compact-mnist5k")
    shutil.copytree(good.path, saw_all.path)
    saw_all.save_config(cfg.replace(dataset="mnist5k"))
    return root, good, saw_all


def test_cli_writes_the_table_into_the_run_and_the_json(runs, tmp_path):
    root, good, _ = runs
    out = tmp_path / "aug.json"
    rc, stdout, err = run_main(["augment", good.name, "--runs-dir", root, *TINY_EXPERIMENT, "--json", out])
    assert rc == 0, err
    result = json.loads(out.read_text())
    assert result == good.augment()
    assert {r["arm"] for r in result["records"]} == {"real", "real+gen", "gen", "gan-test", "gen-seen"}
    assert len([r for r in result["records"] if r["arm"] == "real"]) == 4  # 2 sizes x 2 seeds
    assert result["heldout"] == "mnist5k_heldout" and result["generator_trained_on"] == 512
    table = good.augment_table_file.read_text().splitlines()
    assert table[0].startswith("arm,trained_on,tested_on,real_per_class") and len(table) == 1 + 2 * 3 + 2
    assert "At 5 real images per class, adding 20 generated ones" in stdout
    assert "generated (CAS)" in stdout and "wrote" in err


def test_cli_refuses_a_run_that_saw_the_heldout_images(runs):
    root, _, saw_all = runs
    rc, stdout, err = run_main(["augment", saw_all.name, "--runs-dir", root, *TINY_EXPERIMENT])
    assert rc == 2 and stdout == ""
    assert err.startswith("error: dataset: the run trained on mnist5k,") and len(err.splitlines()) == 1


def test_cli_names_the_bad_setting(runs):
    root, good, _ = runs
    rc, _, err = run_main(["augment", good.name, "--runs-dir", root, "--real-per-class", "10,x"])
    assert rc == 2 and "--real-per-class must be whole numbers" in err
    rc, _, err = run_main(["augment", good.name, "--runs-dir", root, "--real-per-class", "10,401", "--device", "cpu",
                              "--no-progress"])
    assert rc == 2 and err.strip() == ("error: real-per-class: 401 is more than the 400 real images per class that "
                                       "mnist5k_train holds")


# ---- the page ---------------------------------------------------------------------------------
def page(root: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(root))
    return run(page_at("app_pages/augment.py"))


def test_page_refuses_a_run_that_saw_the_heldout_images(runs, monkeypatch):
    root, _, saw_all = runs
    at = page(root, monkeypatch)
    at.selectbox(key="aug_run").set_value(saw_all.name).run()
    assert any("cannot be tested fairly" in e.value and "mnist5k_train" in e.value for e in at.error)
    assert at.button(key="aug_start").disabled


def test_page_runs_the_experiment_in_the_background_and_reads_it(runs, monkeypatch):
    root, good, _ = runs
    good.augment_file.unlink(missing_ok=True)
    at = page(root, monkeypatch)
    at.selectbox(key="aug_run").set_value(good.name).run()
    assert not at.error and not at.button(key="aug_start").disabled
    at.multiselect(key="aug_sizes").set_value([5])
    at.number_input(key="aug_k").set_value(10)
    at.slider(key="aug_seeds").set_value(2)
    at.number_input(key="aug_steps").set_value(20)
    at.button(key="aug_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.monotonic() + 120
    while "What it says" not in [s.value for s in at.subheader]:
        assert time.monotonic() < deadline, "the experiment did not finish"
        assert not at.error, [e.value for e in at.error]
        time.sleep(0.5)
        at.run()  # as the polling fragment would
    text = "\n".join(m.value for m in at.markdown)
    assert "At 5 real images per class, adding 10 generated ones" in text
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles[0].startswith("Accuracy on held-out real images") and titles[1].startswith("GAN-test")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {t.get("name") for t in spec["data"]}
    assert {"real only", "real + generated", "generated only (CAS)"} <= names
    assert len(at.dataframe[0].value) == 5  # real, real+gen, gan-test at 5; gen; gen-seen
    assert good.augment()["settings"]["real_per_class"] == [5]

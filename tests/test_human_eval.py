"""Real or fake?: the Wilson interval, the answers file, the pre-generated rounds and the page."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlib.explore import human_eval as he  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402
from tests.helpers import page  # noqa: E402
from tests.helpers import run as _run  # noqa: E402

PAGE = "app_pages/real_or_fake.py"


@pytest.fixture
def trained(runs_copy):
    """This module's copy of the session's tiny runs; the mlp_gan run is judged."""
    return runs_copy.root, runs_copy.mlp


# ---- statistics ------------------------------------------------------------------------------
def test_wilson_interval_matches_hand_computation():
    # 10 errors in 50: p = 0.2, z = 1.96; centre (0.2 + z^2/100) / (1 + z^2/50) = 0.221413,
    # half-width z / (1 + z^2/50) * sqrt(0.2 * 0.8 / 50 + z^2 / 10000) = 0.108966
    lo, hi = he.wilson_interval(10, 50)
    assert lo == pytest.approx(0.112447, abs=1e-5) and hi == pytest.approx(0.330379, abs=1e-5)
    lo, hi = he.wilson_interval(0, 10)  # no errors: [0, z^2 / (n + z^2)]
    assert lo == 0.0 and hi == pytest.approx(3.841459 / 13.841459, abs=1e-6)
    lo, hi = he.wilson_interval(25, 50)  # symmetric around one half
    assert lo + hi == pytest.approx(1.0) and lo == pytest.approx(0.3664, abs=1e-4)
    assert he.wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        he.wilson_interval(11, 10)


def test_error_rate_and_summary_per_checkpoint_and_session():
    def ans(ck, session, kind, answer, t):
        return {"time": t, "session": session, "checkpoint": ck, "epoch": int(ck[6:10]), "kind": kind,
                "answer": answer, "correct": kind == answer}

    answers = ([ans("epoch_0001.pt", "a", "fake", "fake", 1.0)] * 8
               + [ans("epoch_0001.pt", "a", "fake", "real", 2.0)] * 2
               + [ans("epoch_0002.pt", "b", "real", "fake", 3.0)] * 5
               + [ans("epoch_0002.pt", "b", "real", "real", 4.0)] * 5)
    er = he.error_rate(answers)
    assert (er.errors, er.n, er.rate) == (7, 20, 0.35)
    assert "35.0%" in str(er) and "7/20" in str(er)
    rows = {r["group"]: r for r in he.summary_rows(answers)}
    assert list(rows) == ["epoch_0001.pt", "epoch_0002.pt", "all"]
    assert rows["epoch_0001.pt"]["error_rate"] == 0.2 and rows["epoch_0001.pt"]["fakes_judged_real"] == 0.2
    assert rows["epoch_0001.pt"]["reals_judged_fake"] is None and rows["epoch_0001.pt"]["epoch"] == 1
    assert rows["epoch_0002.pt"]["reals_judged_fake"] == 0.5
    assert (rows["all"]["ci_low"], rows["all"]["ci_high"]) == pytest.approx(he.wilson_interval(7, 20))
    by_session = he.summary_rows(answers, by="session")
    assert [r["group"] for r in by_session] == ["a", "b", "all"] and by_session[1]["checkpoint"] == "epoch_0002.pt"


# ---- answers file ------------------------------------------------------------------------------
def test_answers_are_appended_and_read_back(tmp_path):
    run = Run(tmp_path)
    png = b"not shown"
    batch = he.Batch("r", "epoch_0003.pt", 3, 0, [he.Item("real", png), he.Item("fake", png), he.Item("fake", png)])
    recs = [he.record_answer(run, batch, i, a, t=100.0 + i) for i, a in enumerate(["Real", "real", "fake"])]
    assert [r["correct"] for r in recs] == [True, False, True]
    with open(run.human_eval_file, "a") as f:
        f.write('{"torn": tr')  # a crash mid-line must not lose the other answers
    back = he.load_answers(run)
    assert back == recs
    assert set(back[0]) >= {"time", "checkpoint", "kind", "answer", "correct", "session", "epoch"}
    assert back[1] == {"time": 101.0, "session": batch.session, "checkpoint": "epoch_0003.pt", "epoch": 3,
                       "index": 1, "kind": "fake", "answer": "real", "correct": False}
    lines = run.human_eval_file.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[2])["answer"] == "fake"
    with pytest.raises(ValueError, match="real.*fake"):
        he.record_answer(run, batch, 0, "maybe")
    assert he.load_answers(Run(tmp_path / "nowhere")) == []


# ---- rounds ------------------------------------------------------------------------------------
def test_batch_is_half_real_half_fake_upscaled_and_repeatable(trained):
    _, run = trained
    batch = he.make_batch(run, n=10, seed=7)
    kinds = [it.kind for it in batch.items]
    assert sorted(kinds) == ["fake"] * 5 + ["real"] * 5
    # shuffled: seed 7 mixes them, so neither all reals first nor all fakes first
    assert kinds not in (["real"] * 5 + ["fake"] * 5, ["fake"] * 5 + ["real"] * 5), kinds
    im = Image.open(io.BytesIO(batch.items[0].png))
    assert im.size == (252, 252) and im.mode == "L"  # 28 px * 9, nearest neighbour
    assert batch.checkpoint == "epoch_0002.pt" and batch.epoch == 2
    again = he.make_batch(run, n=10, seed=7)
    assert [i.png for i in again.items] == [i.png for i in batch.items] and again.session != batch.session
    assert [i.kind for i in again.items] == kinds  # the same order for the same seed
    with pytest.raises(ValueError, match="between 2 and 1000"):
        he.make_batch(run, n=1)
    assert he.dataset_size(run) == 256  # max_images of the run's config


def test_real_images_are_the_training_images(trained):
    from ganlib.core.images import to_uint8
    from ganlib.data import load_dataset

    _, run = trained
    cfg = run.config()
    data = load_dataset(cfg.dataset, data_path=cfg.data_path, channels=cfg.channels, image_size=cfg.image_size,
                        max_images=cfg.max_images)
    x, y = he.real_images(run, [0, 7, 255])
    assert x.dtype.name == "uint8" and (x == to_uint8(data.images[[0, 7, 255]])).all()
    assert y.tolist() == data.labels[[0, 7, 255]].tolist()


# ---- page --------------------------------------------------------------------------------------
def _page() -> AppTest:
    return page(PAGE)


def test_page_round_records_answers_and_reports_error_rate(trained, monkeypatch):
    root, run = trained
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(root))
    run.human_eval_file.unlink(missing_ok=True)
    at = _page()
    at.session_state["rof_run"] = run.name
    _run(at)
    assert not at.image and any("Start a round" in i.value for i in at.info)
    at.number_input(key="rof_n").set_value(10)
    _run(at)
    at.button(key="rof_start").click()
    _run(at)
    assert len(at.image) == 1 and "Image 1 of 10" in at.get("progress")[0].proto.text
    assert at.button(key="rof_real").proto.shortcut.lower() == "left"
    assert at.button(key="rof_fake").proto.shortcut.lower() == "right"
    batch = at.session_state["_rof_round"]["batch"]
    for i in range(10):
        at.button(key="rof_real" if i % 2 else "rof_fake").click()
        _run(at)
    answers = he.load_answers(run)
    assert len(answers) == 10 and {a["session"] for a in answers} == {batch.session}
    assert [a["kind"] for a in answers] == [it.kind for it in batch.items]
    er = he.error_rate(answers)
    assert any("Round done" in s.value and f"{er.errors}/10" in s.value for s in at.success)
    assert not at.image  # the round is over
    table = at.dataframe[0].value
    assert list(table["group"]) == ["epoch_0002.pt"] and table["answers"][0] == 10
    assert table["error_rate"][0] == pytest.approx(er.rate)

"""benchmarks/colour_recipes.py (issue 22 item 5): its candidates are valid colour configs, its
bar reads the checks it keeps, and it runs end to end on emoji with tiny sizes."""
import json
import math
from types import SimpleNamespace

import pytest
import torch

from ganlib.store.config import TrainConfig
from tests.helpers import load_script


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_candidates_are_valid_colour_configs_and_the_first_is_the_digit_default():
    cr = load_script("colour_recipes")
    for size in (32, 64):
        for name, changes in cr.CANDIDATES.items():
            cfg = TrainConfig.from_dict({**cr.BASE, **changes, "dataset": "emoji_train", "channels": 3,
                                         "image_size": size})
            assert cfg.channels == 3 and cfg.image_size == size, name
    default = TrainConfig()
    for field, value in cr.BASE.items():  # the table's "default" is the digit recipe as it stands
        assert getattr(default, field) == value, field
    assert cr.CANDIDATES["default"] == {}


def test_the_bar_needs_fid_recall_and_a_verdict_that_is_not_red():
    cr = load_script("colour_recipes")
    args = SimpleNamespace(bar_fid=30.0, bar_recall=0.1)
    checks = [{"images": 0, "fid": 220.0, "recall": 0.0, "level": "info", "cpu_s": 1, "wall_s": 2},
              {"images": 100, "fid": 25.0, "recall": 0.2, "level": "error", "cpu_s": 5, "wall_s": 9},  # red
              {"images": 200, "fid": 28.0, "recall": 0.05, "level": "success", "cpu_s": 8, "wall_s": 15},  # recall
              {"images": 300, "fid": 29.0, "recall": 0.15, "level": "warning", "cpu_s": 11, "wall_s": 20}]
    run = cr.with_bar({"checks": checks}, args)
    assert run["met"] and run["images_to_bar"] == 300 and run["cpu_s_to_bar"] == 11 and run["best_fid"] == 25.0
    assert not cr.with_bar({"checks": checks[:3]}, args)["met"]


@pytest.mark.slow
def test_colour_recipes_runs_on_emoji_and_rereads_its_json(tmp_path, restore_threads):
    cr = load_script("colour_recipes")
    out, perf = tmp_path / "c.json", tmp_path / "PERF.md"
    perf.write_text("# Performance\n\n## Colour recipes (issue 22 item 5)\n\nstale\n\n## Other\n\nkept\n")
    assert cr.main(["--size", "16", "--only", "default", "--seeds", "0", "--check-epochs", "1", "--cap-images", "1472",
                    "--judge-n", "60", "--eval-every", "1", "--threads", "1", "--runs-dir", str(tmp_path / "runs"),
                    "--json", str(out), "--write-perf", str(perf)]) == 0
    res = json.loads(out.read_text())
    assert res["heldout_n"] == 375 and res["judge_n"] == 60 and math.isfinite(res["floor"]["fid"])
    (r,) = res["runs"]
    assert [c["images"] for c in r["checks"]] == [0, 1472]  # the untrained generator, then one epoch
    assert all(math.isfinite(c["fid"]) and 0 <= c["recall"] <= 1 and c["verdict"] for c in r["checks"])
    assert r["checks"][1]["cpu_s"] > 0 and r["engine_state"] == "stopped"
    text = perf.read_text()
    assert "stale" not in text and "## Other\n\nkept" in text and "| default | 0 |" in text
    assert cr.main(["--from-json", str(out), "--bar-fid", "1e9", "--bar-recall", "0"]) == 0  # another bar
    again = cr.with_bar(r, SimpleNamespace(bar_fid=1e9, bar_recall=0.0))
    assert again["met"] and again["images_to_bar"] == 0  # the untrained check is "too early", not red

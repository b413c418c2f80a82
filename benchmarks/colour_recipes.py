"""Which recipe learns colour images soonest on a CPU (issue 22 item 5): candidate recipes trained
through ganlib's engine on `emoji_train` (3 channels, white background, at `--size` px), judged
at intervals on `emoji_heldout`, which no run has seen.

    nice -n 5 python benchmarks/colour_recipes.py --size 32 --only default,diffaug --seeds 1
    python benchmarks/colour_recipes.py --size 32 --json c32.json --write-perf docs/PERF.md

The judge, every `--check-epochs` epochs (at an epoch boundary, after the engine's own live
evaluation of that epoch): the shipped emoji CNN (`ganlib/metrics/extractor_emoji.py`, trained
on `emoji_train` only, 72 % held-out accuracy over 9 groups) embeds a fixed batch of generated
images (`--judge-n`; the requested labels are the held-out labels in turn, so the classes come
in the held-out proportions) and the 375 held-out emoji; FID on its 128-d standardised
features, precision and recall (k = 3), and the run's own health verdict as the Train page
shows it (`store.run_health.run_verdict`: the engine's evaluations every `eval_every` epochs,
as Start runs them). Two references are printed with it: the untrained generator's FID (the
ceiling) and the training emoji's against the held-out ones at the same N (the floor).

The bar: FID <= `--bar-fid`, recall >= `--bar-recall` and a verdict that is not red (error
level). Reported per (candidate, seed): training images until the bar was met (a count that
does not depend on how busy the machine is), this process's CPU seconds and wall seconds until
then (training and the engine's live evaluations, the judge's own time left out), and the load
average. Every check is kept in `--json`, so another bar can be read from the same runs.
"""
from __future__ import annotations

import argparse
import json
import os
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

SECTION = "## Colour recipes (issue 22 item 5)"
# The digit default's recipe, pinned (TrainConfig's defaults may change; this table must not).
BASE = {"model": "cdcgan_compact", "loss": "hinge", "d_norm": "none", "batch_size": 64, "lr_g": 2e-3, "lr_d": 2e-3,
        "beta1": 0.5, "beta2": 0.999, "latent_dim": 100, "ema_decay": 0.0, "diffaugment": "", "spectral_norm": False,
        "variant": "default", "dropout": None}
CANDIDATES = {
    "default": {},  # the digit default at 3 channels
    "diffaug": {"diffaugment": "color,translation"},  # 1,494 images: D sees augmented reals and fakes
    "lr1e-3_b32": {"lr_g": 1e-3, "lr_d": 1e-3, "batch_size": 32},  # smaller steps, twice as many
    "diffaug_ema": {"diffaugment": "color,translation", "ema_decay": 0.99},  # samples from G's running mean
}
JUDGE_SEED = 4321


class Judge:
    """Held-out emoji features once; `check(G)` -> FID, precision, recall of a fixed batch."""

    def __init__(self, size: int, n: int, device: torch.device):
        from ganlib.data import load_dataset
        from ganlib.metrics.extractor_choice import get_extractor
        from ganlib.metrics.frechet import mean_cov

        self.ext = get_extractor("emoji", str(device))
        self.device = device
        held = load_dataset("emoji_heldout", channels=3, image_size=size, background="white", device=device)
        self.real = self.ext.features(held.first(len(held))).double()
        self.real_n = len(held)
        self.mu, self.sigma = mean_cov(self.real)
        reps = -(-n // len(held))
        self.y = held.labels.repeat(reps)[:n].to(device)
        self.z = None
        self.n = n
        self.cpu_s = 0.0

    def _score(self, feats: torch.Tensor) -> dict:
        from ganlib.metrics.frechet import frechet_distance, mean_cov
        from ganlib.metrics.precision_recall import precision_recall

        mu, sigma = mean_cov(feats.double())
        p, r = precision_recall(self.real, feats.double())
        return {"fid": frechet_distance(self.mu, self.sigma, mu, sigma), "precision": p, "recall": r}

    def floor(self, size: int) -> dict:
        """The training emoji against the held-out ones, at the judge's N: what a perfect G scores."""
        from ganlib.data import load_dataset

        train = load_dataset("emoji_train", channels=3, image_size=size, background="white", device=self.device)
        return self._score(self.ext.features(train.first(min(self.n, len(train)))))

    @torch.no_grad()
    def check(self, G: torch.nn.Module, latent_dim: int) -> dict:
        t0 = time.process_time()
        if self.z is None:
            g = torch.Generator().manual_seed(JUDGE_SEED)
            self.z = torch.randn(self.n, latent_dim, generator=g).to(self.device)
        was = G.training
        G.eval()
        x = torch.cat([G(self.z[i:i + 250], self.y[i:i + 250]) for i in range(0, self.n, 250)])
        G.train(was)
        out = self._score(self.ext.features(x))
        self.cpu_s += time.process_time() - t0
        return out


def run_one(name: str, seed: int, args, device, judge: Judge) -> dict:
    from ganlib.engine.callbacks import Callbacks
    from ganlib.engine.training import prepare
    from ganlib.store.config import TrainConfig
    from ganlib.store.run_health import run_verdict

    cfg = TrainConfig.from_dict({**TrainConfig().to_dict(), **BASE, **CANDIDATES[name], "dataset": "emoji_train",
                                 "channels": 3, "image_size": args.size, "background": "white", "epochs": 5000,
                                 "seed": seed, "device": device.type, "eval_every": args.eval_every,
                                 "cpu_threads": args.threads})
    load0 = os.getloadavg()[0]
    judge_cpu0 = judge.cpu_s
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    trainer = prepare(cfg, runs_dir=args.runs_dir)
    steps = len(trainer.data) // cfg.batch_size
    every = steps * args.check_epochs
    state = {"calls": 0, "met": None, "checks": [], "judge_wall": 0.0}

    def check(images: int) -> None:
        w0 = time.perf_counter()
        res = judge.check(trainer.rule.sampler(), cfg.latent_dim)
        v = run_verdict(trainer.run)
        state["judge_wall"] += time.perf_counter() - w0
        res.update(images=images, epoch=images // (steps * cfg.batch_size), verdict=v.label, level=v.level,
                   cpu_s=time.process_time() - t_cpu - (judge.cpu_s - judge_cpu0),
                   wall_s=time.perf_counter() - t_wall - state["judge_wall"])
        state["checks"].append(res)
        print(f"    {name} seed {seed} {images:>7,} img: FID {res['fid']:7.2f}  P {res['precision']:.2f}  "
              f"R {res['recall']:.2f}  {v.label:<22s} cpu {res['cpu_s']:6.0f} s  load {os.getloadavg()[0]:.1f}",
              flush=True)
        if meets(res, args) and state["met"] is None:
            state["met"] = res

    def should_stop() -> bool:
        k = state["calls"]
        state["calls"] += 1
        if k == 0 or k % every:
            return False
        check(k * cfg.batch_size)
        return k * cfg.batch_size >= args.cap_images or (args.stop_at_bar and state["met"] is not None)

    check(0)  # the untrained generator (prepare has evaluated it for the run, as Start does)
    outcome = trainer.fit(Callbacks(should_stop=should_stop))
    trainer.close()
    return with_bar({"candidate": name, "seed": seed, "values": {**BASE, **CANDIDATES[name]},
                     "engine_state": outcome, "checks": state["checks"], "last": state["checks"][-1],
                     "load_start": load0, "load_end": os.getloadavg()[0]}, args)


def meets(res: dict, args) -> bool:
    return res["fid"] <= args.bar_fid and res["recall"] >= args.bar_recall and res["level"] != "error"


def with_bar(run: dict, args) -> dict:
    """The run's first check that meets the bar (runs go on to the cap, so `--from-json` can
    read another bar from the same checks)."""
    met = next((c for c in run["checks"] if meets(c, args)), None)
    run.update(met=met is not None, images_to_bar=met["images"] if met else None,
               cpu_s_to_bar=met["cpu_s"] if met else None, wall_s_to_bar=met["wall_s"] if met else None,
               best_fid=min(c["fid"] for c in run["checks"]))
    return run


def fmt(x, spec: str = ",.0f") -> str:
    return "not met" if x is None else format(x, spec)


def table(results: list[dict]) -> str:
    lines = ["| candidate | seed | met | images to bar | CPU s to bar | wall s to bar | best FID | at the last check: "
             "images, FID, precision, recall, verdict | load (start-end) |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in results:
        last = r["last"]
        lines.append(f"| {r['candidate']} | {r['seed']} | {'yes' if r['met'] else 'no'} | {fmt(r['images_to_bar'])} | "
                     f"{fmt(r['cpu_s_to_bar'])} | {fmt(r['wall_s_to_bar'])} | {r['best_fid']:.2f} | "
                     f"{last['images']:,}, {last['fid']:.2f}, {last['precision']:.2f}, {last['recall']:.2f}, "
                     f"{last['verdict']} | {r['load_start']:.1f}-{r['load_end']:.1f} |")
    return "\n".join(lines)


def summary(results: list[dict]) -> dict:
    out = {}
    for name in dict.fromkeys(r["candidate"] for r in results):
        rs = [r for r in results if r["candidate"] == name]
        imgs = [r["images_to_bar"] for r in rs if r["met"]]
        out[name] = {"seeds": len(rs), "met": len(imgs), "median_images": statistics.median(imgs) if imgs else None}
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=32, help="image size in px (32 or 64)")
    p.add_argument("--only", default=",".join(CANDIDATES), help=f"comma-separated, of {', '.join(CANDIDATES)}")
    p.add_argument("--seeds", default="0", help="comma-separated seeds per candidate")
    p.add_argument("--check-epochs", type=int, default=5, help="judge every N epochs")
    p.add_argument("--eval-every", type=int, default=5, help="the engine's live evaluation, as Start runs it")
    p.add_argument("--judge-n", type=int, default=750, help="generated images per check")
    p.add_argument("--cap-images", type=int, default=80_000, help="give up after this many training images")
    p.add_argument("--bar-fid", type=float, default=10.0)
    p.add_argument("--bar-recall", type=float, default=0.1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    p.add_argument("--runs-dir", default="", help="where the runs go (default: a temporary folder)")
    p.add_argument("--stop-at-bar", action="store_true", help="stop a run once it meets the bar (default: go on "
                   "to the cap, so that another bar can be read later)")
    p.add_argument("--from-json", help="no training: the table of this earlier --json, under this bar")
    p.add_argument("--references-only", action="store_true", help="print the ceiling and floor, train nothing")
    p.add_argument("--json")
    p.add_argument("--write-perf", help=f"replace the '{SECTION}' section of this PERF.md")
    a = p.parse_args(argv)
    a.names = [x.strip() for x in a.only.split(",") if x.strip()]
    a.seed_list = [int(s) for s in a.seeds.split(",") if s.strip()]
    if not a.names or set(a.names) - set(CANDIDATES):
        p.error(f"--only takes {', '.join(CANDIDATES)}")
    if a.size % 4 or not a.seed_list or a.check_epochs < 1:
        p.error("need --size a multiple of 4, at least one seed, --check-epochs >= 1")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    command = command_line(__file__, argv)
    device, desc = pick_device(args.device, args.threads)
    args.runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="colour-")
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    print(f"command: {command}\ntorch {torch.__version__}, {desc}, {date}, load {os.getloadavg()}", flush=True)
    if args.from_json:
        old = json.loads(Path(args.from_json).read_text())
        results = [with_bar(r, args) for r in old["runs"]]
        heldout_n, floor, command = old["heldout_n"], old["floor"], old["command"]
        date, desc, args.judge_n = old["date"], old["device"], old["judge_n"]
    else:
        judge = Judge(args.size, args.judge_n, device)
        heldout_n, floor = judge.real_n, judge.floor(args.size)
        print(f"judge: emoji CNN, {args.judge_n} generated against {heldout_n} held-out emoji; floor (training "
              f"emoji): FID {floor['fid']:.2f}, P {floor['precision']:.2f}, R {floor['recall']:.2f}", flush=True)
        results = []
        for seed in [] if args.references_only else args.seed_list:
            for name in args.names:
                results.append(run_one(name, seed, args, device, judge))
    text = table(results) if results else ""
    print("\n" + text)
    info = {"command": command, "date": date, "device": desc, "size": args.size, "judge_n": args.judge_n,
            "heldout_n": heldout_n, "floor": floor, "bar": {"fid": args.bar_fid, "recall": args.bar_recall},
            "summary": summary(results), "runs": results}
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=1, default=str))
    if args.write_perf:
        body = (f"Command: `{command}`  \n{date}; torch {torch.__version__}; {desc}.\n\n{text}\n\n"
                f"Judge: the emoji CNN's features, {args.judge_n} generated against the {heldout_n} held-out "
                f"emoji (floor: training emoji, FID {floor['fid']:.2f}); bar: FID <= {args.bar_fid:g}, recall >= "
                f"{args.bar_recall:g}, verdict not red.")
        write_perf(Path(args.write_perf), SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""StyleGAN against the recommended default at the same wall-clock budget on mnist5k (issue 13):
FID with the digit extractor, classes covered, precision and recall, and for StyleGAN the
perceptual path length in Z and in W.

    python benchmarks/stylegan_quality.py --budget-s 300 --seeds 0,1,2 --json sg.json   # the measurement
    python benchmarks/stylegan_quality.py --budget-s 5 --seeds 0 --stylegan-epochs 1    # does it run

Arms: for each seed the two arms train at the same time, one process and one torch thread each
on the 2-core machine, so a change in the machine's load hits both alike. `default` is
`TrainConfig()` (the `recommended` preset) and `stylegan` the `stylegan` preset, both with the
seed, `time_budget` and schedule fields only (no live evaluation, few grids and checkpoints).
The default's epochs are the most a config takes, so it trains for the whole budget. StyleGAN's
growing schedule is a function of the run's progress (epochs done / epochs planned), so its
epochs are planned (`--stylegan-epochs`) to end near the budget on a quiet machine; a slower
machine cuts the run short, still at the full size when at least `grow_until` of it is done (the
table says the stage it ended at). Evaluation: the latest checkpoint through the one pipeline
(`evaluate_generator`, digit extractor) on `--samples` generated against as many real digits.
Targets: StyleGAN covers 10/10 classes, its FID is no worse than the default's (mean over
seeds), and its PPL in W is below its PPL in Z.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, pick_device, train_for  # noqa: E402
from ganlib.data import cached_run_data, data_fields  # noqa: E402
from ganlib.explore.style import path_length  # noqa: E402
from ganlib.metrics.evaluation import evaluate_generator  # noqa: E402
from ganlib.store.checkpoints import load_handle  # noqa: E402
from ganlib.store.presets import apply_preset  # noqa: E402

SCHEDULE = dict(eval_every=0, sample_every=100, checkpoint_every=1000)
MANY_EPOCHS = 5000
COLUMNS = ("fid", "classes_covered", "precision", "recall", "class_kl")


def arm_config(arm: str, seed: int, args):
    epochs = MANY_EPOCHS if arm == "default" else args.stylegan_epochs
    return apply_preset("recommended" if arm == "default" else "stylegan", seed=seed, time_budget=args.budget_s,
                        epochs=epochs, device="cpu", cpu_threads=args.threads, max_images=args.max_images, **SCHEDULE)


def measure(arm: str, seed: int, args, runs_dir: Path) -> dict[str, Any]:
    cfg = arm_config(arm, seed, args)
    res, info = train_for(cfg, args.budget_s, runs_dir)
    wall = info["wall_s"]
    if res.state != "completed" or not res.rows:  # "failed": no result to evaluate
        return {"arm": arm, "seed": seed, "state": "no epoch" if res.state == "completed" else res.state,
                "error": res.error or "no epoch finished inside the budget"}
    last = res.rows[-1]
    h = load_handle(res.run.latest_checkpoint())
    data = cached_run_data(cfg)
    ev = evaluate_generator(h, data, extractor="digits", n=args.samples, dataset_key=data_fields(cfg))
    out = {"arm": arm, "seed": seed, "state": res.state, "epochs": len(res.rows), "train_s": last["elapsed_s"],
           "wall_s": wall, "images": len(res.rows) * (len(data) // cfg.batch_size) * cfg.batch_size,
           **{k: ev.row.get(k) for k in COLUMNS}, "n": args.samples}
    if arm == "stylegan":
        out.update(stage=last.get("stage"), alpha=last.get("alpha"), planned_epochs=cfg.epochs)
        for space in ("z", "w"):
            out[f"ppl_{space}"] = path_length(h, space, n=args.ppl_pairs)["ppl"]
    return out


def table(results: list[dict[str, Any]]) -> str:
    head = ("| arm | seed | epochs | images trained | train s | FID (digits) | classes | precision | recall "
            "| PPL Z | PPL W | stage at the end |")
    lines = [head, "|" + "---|" * 12]
    for r in results:
        if r.get("state") != "completed" or "epochs" not in r:
            lines.append(f"| {r['arm']} | {r['seed']} | {r.get('state')}: {r.get('error')} |")
            continue
        ppl = (f"{r['ppl_z']:.1f} | {r['ppl_w']:.1f}" if "ppl_z" in r else "– | –")
        stage = (f"{int(r['stage'])} (α {r['alpha']:.2f}) of {r['planned_epochs']} planned epochs"
                 if "stage" in r else "–")
        lines.append(f"| {r['arm']} | {r['seed']} | {r['epochs']} | {r['images']:,} | {r['train_s']:.0f} | "
                     f"{r['fid']:.2f} | {r['classes_covered']}/10 | {r['precision']:.3f} | {r['recall']:.3f} | "
                     f"{ppl} | {stage} |")
    return "\n".join(lines)


def verdict(results: list[dict[str, Any]]) -> list[str]:
    ok = [r for r in results if r.get("state") == "completed" and "fid" in r]
    fid = {a: [r["fid"] for r in ok if r["arm"] == a] for a in ("default", "stylegan")}
    if not fid["default"] or not fid["stylegan"]:
        return ["not every arm finished: no verdict"]
    sg = [r for r in ok if r["arm"] == "stylegan"]
    m_d, m_s = statistics.mean(fid["default"]), statistics.mean(fid["stylegan"])
    word = {True: "pass", False: "fail"}
    return [f"classes covered 10/10 by every stylegan run: {word[all(r['classes_covered'] == 10 for r in sg)]}",
            f"mean FID stylegan {m_s:.2f} vs default {m_d:.2f}: {word[m_s <= m_d]}",
            f"PPL in W below PPL in Z in every stylegan run: {word[all(r['ppl_w'] < r['ppl_z'] for r in sg)]}"]


def time_left(end_by: str, needed_s: float) -> bool:
    now = dt.datetime.now(dt.timezone.utc)
    hh, mm = (int(x) for x in end_by.split(":"))
    return now + dt.timedelta(seconds=needed_s) <= now.replace(hour=hh, minute=mm, second=0, microsecond=0)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget-s", type=float, default=300.0)
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--arms", default="default,stylegan")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each arm's process")
    p.add_argument("--stylegan-epochs", type=int, default=30)
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--max-images", type=int, default=0, help="train on the first N digits (0 = all; for smoke tests)")
    p.add_argument("--ppl-pairs", type=int, default=2000)
    p.add_argument("--json", type=Path)
    p.add_argument("--runs-dir", type=Path)
    p.add_argument("--end-by", metavar="HH:MM", help="UTC time: start no seed that could not finish by then")
    p.add_argument("--one", help=argparse.SUPPRESS)  # ARM,SEED: one arm in this process (the workers)
    args = p.parse_args(argv)
    _, device_text = pick_device("cpu", args.threads)
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="sg_quality_"))
    if args.one:
        arm, seed = args.one.split(",")
        print(json.dumps(measure(arm, int(seed), args, runs_dir)), flush=True)
        return 0
    results = []
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    passed = [a for a in (argv if argv is not None else sys.argv[1:])]
    for seed in [int(s) for s in args.seeds.split(",")]:
        if args.end_by and not time_left(args.end_by, args.budget_s + 120):
            print(f"seed {seed} left out: it could not finish by {args.end_by} UTC", flush=True)
            break
        workers = [subprocess.Popen([sys.executable, __file__, *passed, "--runs-dir", str(runs_dir),
                                     "--one", f"{arm},{seed}"], stdout=subprocess.PIPE, text=True)
                   for arm in args.arms.split(",")]
        for w in workers:
            out, _ = w.communicate()
            lines = [line for line in out.splitlines() if line.startswith("{")]
            r = json.loads(lines[-1]) if lines else {"arm": "?", "seed": seed, "state": f"exit {w.returncode}"}
            results.append(r)
            print(json.dumps(r), flush=True)
            if args.json:
                args.json.write_text(json.dumps({"command": command_line(__file__, argv), "device": device_text,
                                                 "started": started, "results": results}, indent=1))
    print(f"\n{started}, {device_text}\n`{command_line(__file__, argv)}`\n")
    print(table(results))
    print("\n".join(f"- {v}" for v in verdict(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

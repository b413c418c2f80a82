"""Where one live evaluation's time goes (issue 22, item 6): the engine's `evaluate_generator` on
N samples of the default recipe's generator against mnist5k with the digit extractor, after one
warm-up call (the real statistics are cached per process, as in a run). Prints wall and CPU
seconds of each timed call and, with --profile, cProfile's top functions by cumulative time.

    nice -n 5 python benchmarks/eval_profile.py --n 2000 --repeats 3 [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib
    sys.path.insert(0, str(ROOT))

from ganlib.data import load_dataset  # noqa: E402
from ganlib.metrics import kid as kid_module  # noqa: E402
from ganlib.metrics.evaluation import evaluate_generator  # noqa: E402
from ganlib.models import MODELS, build_models  # noqa: E402
from ganlib.models.handle import GeneratorHandle  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--kid-per-subset", action="store_true",
                    help="KID as before issue 22: each subset's kernels computed on their own (the 'before')")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.kid_per_subset:
        kid_module.GRAM_LIMIT = 0
    torch.manual_seed(0)
    cfg = TrainConfig()
    data = load_dataset(cfg.dataset, channels=cfg.channels, image_size=cfg.image_size)
    G, _ = build_models(cfg, data.num_classes)
    spec = MODELS.get(cfg.model)
    handle = GeneratorHandle(G.eval(), cfg.latent_dim, data.num_classes, spec.conditional, list(data.class_names),
                             spec.kind)
    key = {"dataset": cfg.dataset, "image_size": cfg.image_size, "channels": cfg.channels}
    evaluate_generator(handle, data, extractor="auto", n=args.n, dataset_key=key)  # warm-up: real stats, extractor
    times, rows = [], []
    prof = cProfile.Profile() if args.profile else None
    for _ in range(args.repeats):
        w, c = time.perf_counter(), cpu_s()
        if prof:
            prof.enable()
        res = evaluate_generator(handle, data, extractor="auto", n=args.n, dataset_key=key)
        if prof:
            prof.disable()
        times.append({"wall_s": round(time.perf_counter() - w, 3), "cpu_s": round(cpu_s() - c, 3)})
        rows.append(res.row)
    values = {k: v for k, v in rows[-1].items() if isinstance(v, float) and k != "eval_time_s"}
    print(json.dumps({"n": args.n, "threads": torch.get_num_threads(), "kid": "per subset" if args.kid_per_subset
                      else "whole-set kernels", "calls": times,
                      "values": {k: round(v, 6) for k, v in values.items()}}))
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

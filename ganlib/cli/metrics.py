"""`python -m ganlib metrics RUN`: one evaluation of a run's checkpoint, as a table or as JSON,
through the same pipeline, data, real-reference cache and seed as the engine's live evaluation."""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Optional

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint, one_line
from ganlib.cli.flags import add_checkpoint, add_device, add_runs_dir, check_device, extractor
from ganlib.explore.checkpoint_evaluation import evaluate_checkpoint
from ganlib.metrics.metric_registry import Metric, shown_metrics
from ganlib.models import MODELS
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.run_folder import Run, find_run


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "metrics", allow_abbrev=False,
        help="evaluate a run: FID, KID, IS, precision/recall, class coverage",
        description="Evaluate a run's generator against the run's own dataset, as the live evaluation "
                    "during training does: FID with a bootstrap std, KID with its std over subsets, the "
                    "Inception-style score, precision and recall, and, when the extractor classifies the "
                    "data's classes, classes covered, class KL and (conditional runs) label accuracy. Every "
                    "value is printed with its extractor and N. The real images' statistics are cached on "
                    "disk ($GANLIB_CACHE_DIR, default ~/.cache/ganlib/stats), shared with training.",
        epilog="Values depend on the extractor and on N: compare runs only at equal extractor and N.")
    p.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    add_checkpoint(p, "best.pt, the lowest-FID state, when the run has one, else the latest; e.g. epoch_0010.pt")
    p.add_argument("--extractor", "--features", metavar="NAME",
                   help="auto, digits or inception (default: the run's own setting; auto is digits for "
                        "grayscale runs, inception for colour, falling back to digits without its weights)")
    p.add_argument("--n", type=int, metavar="N",
                   help="generated samples and real images compared (default: the run's eval_samples, "
                        "capped at the dataset's size)")
    add_device(p, "auto")
    p.add_argument("--inception-weights", "--inception_weights", default="", metavar="FILE",
                   help="path to pt_inception-2015-12-05-6726825d.pth (default: the run's setting, "
                        "$GANLIB_INCEPTION_WEIGHTS, torch hub's cache, a download)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_runs_dir(p)
    return p


def evaluate_run(run: Run, *, checkpoint: Optional[str] = None, extractor_name: Optional[str] = None,
                 n: Optional[int] = None, device: str = "cpu", inception_weights: str = "") -> dict[str, Any]:
    """One evaluation as the flat dict that the table and the JSON show. Defaults follow the run:
    its extractor setting and its eval_samples. An extractor asked for by name must be available
    (no silent fallback to the digit classifier); the run's own setting, like `auto`, falls back
    as the engine does, with a note."""
    cfg = run.config()
    path = find_checkpoint(run, checkpoint, prefer_best=True)  # a missing checkpoint fails before anything loads
    weights = inception_weights or cfg.inception_weights
    if extractor_name is not None and extractor_name != "auto":
        extractor(extractor_name, device, weights)  # unknown or unavailable: a one-line error now
    progress = None
    if sys.stderr.isatty():
        progress = lambda fraction, text: eprint(f"[{fraction:4.0%}] {text}")  # noqa: E731
    res = evaluate_checkpoint(run, path, extractor=extractor_name or cfg.extractor,
                              n=cfg.eval_samples if n is None else n, inception_weights=weights,
                              device=device, progress=progress)
    details = dict(res.details)
    notes = [one_line(details.pop("extractor_note"))] if details.get("extractor_note") else []
    class_names = details.get("class_names") or []
    return {"run": run.name, "run_path": str(run.path), "checkpoint": str(path),
            "epoch": details.get("epoch"), "model": cfg.model, "dataset": cfg.dataset, "device": str(device),
            **res.row, "real_n": res.row["eval_n"], "pr_n": details.get("pr_n"),
            "kid_subset": details.get("kid_subset"), "floor_n": details.get("floor_n"),
            "conditional": MODELS.get(cfg.model).conditional,
            "num_classes": len(class_names), "notes": notes, "warnings": [one_line(w) for w in res.warnings],
            "details": details}


def strict_json(v: Any) -> Any:
    """NaN and inf become None, recursively, so the JSON is strict (any parser reads it)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: strict_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [strict_json(x) for x in v]
    return v


def _cell(v: Any, m: Metric) -> str:
    """A stored value as label `m` shows it in the table ("-" for none), scaled (KID ×10³)."""
    return "-" if v is None or v != v else m.table_text(v)


def metrics_table(r: dict[str, Any]) -> str:
    """The evaluation as an aligned table: metric, value, std, extractor, N, what N and std mean."""
    ext, n, k = r["extractor"], r["eval_n"], r["num_classes"]
    not_classifier = (f"n/a: {ext} does not classify the data's {k} classes" if k else
                      "n/a: the data has no class labels")
    cc = r.get("classes_covered")
    # Subsets as large as the sample hold every sample: all 100 give the same value, std 0.
    whole_set = r["kid_subset"] is not None and r["kid_subset"] >= min(n, r["real_n"])
    pr = f"k = 3, {r['pr_n']} real vs {r['pr_n']} generated"
    fn = r.get("floor_n")
    floor_note = ("n/a: no floor" if not fn else f"real vs real: the next {fn} real images against the reference"
                  if fn == r["real_n"] else f"real vs real: two halves of {fn} (the data holds fewer than 2N)")
    notes = {
        "fid": f"vs {r['real_n']} real images; std: bootstrap of the generated set",
        "kid": "one subset = all samples: no spread" if whole_set else f"std over subsets of {r['kid_subset']}",
        "is_mean": ("std over 10 splits" if r.get("is_mean") == r.get("is_mean")
                    else f"n/a: {ext} has no classifier head"),
        "precision": pr, "recall": pr,
        "classes_covered": ("classes with >= 10% of their expected share" if cc == cc and cc is not None
                            else not_classifier),
        "class_kl": ("KL(generated || real) of predicted classes, nats" if r.get("class_kl") == r.get("class_kl")
                     else not_classifier),
        "label_acc": ("share classified as the label asked for" if r.get("label_acc") == r.get("label_acc")
                      else not_classifier),
        "fid_floor": floor_note, "kid_floor": floor_note,
        "pixel_spread": "mean pixel distance between samples / between real images (no extractor)",
    }
    values = {"classes_covered": "-" if cc is None or cc != cc else f"{int(cc)} / {k}"}
    stds = {"kid": "-"} if whole_set else {}
    sizes = {"precision": r["pr_n"], "recall": r["pr_n"], "fid_floor": r.get("floor_n") or n,
             "kid_floor": r.get("floor_n") or n}
    rows = []
    translation = bool(r.get("details", {}).get("translation"))
    for m in shown_metrics("translation" if translation else "image"):
        if m.name == "label_acc" and not r["conditional"]:
            continue
        if translation and r.get(m.name) != r.get(m.name):
            continue  # a translation metric that does not apply (NaN)
        value = values[m.name] if m.name in values else _cell(r.get(m.name), m)
        std = stds[m.name] if m.name in stds else (_cell(r.get(m.std), m) if m.std else "")
        rows.append((m.label, value, std, sizes.get(m.name, n), "held-out split" if translation else notes[m.name]))
    head = ("metric", "value", "± std", "extractor", "N", "")
    table = [head] + [(a, b, c, ext, str(d), e) for a, b, c, d, e in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    lines = [f"run         {r['run']}  ({r['model']} on {r['dataset']})",
             f"checkpoint  {r['checkpoint']}  (epoch {r['epoch']})",
             f"device      {r['device']}; evaluated in {r['eval_time_s']:.1f} s",
             ""]
    for row in table:
        cells = [str(row[0]).ljust(widths[0]), str(row[1]).rjust(widths[1]), str(row[2]).rjust(widths[2]),
                 str(row[3]).ljust(widths[3]), str(row[4]).rjust(widths[4]), str(row[5])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    source = find_run(args.run, args.runs_dir)
    if args.n is not None and args.n < 2:
        raise CLIError(f"--n must be at least 2, got {args.n}")
    device = check_device(args.device)
    result = evaluate_run(source, checkpoint=args.checkpoint, extractor_name=args.extractor, n=args.n,
                          device=device, inception_weights=args.inception_weights)
    for note in result["notes"]:
        eprint(f"note: {note}")
    for warning in result["warnings"]:
        eprint(f"warning: {one_line(warning)}")
    if args.json:
        print(json.dumps(strict_json(result), indent=2))
    else:
        print(metrics_table(result))
    return OK


COMMANDS.add("metrics", Command(add_parser, run))

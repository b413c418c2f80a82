"""`python -m ganlib augment RUN`: does the run's generator help a classifier? Accuracy of a
small CNN trained on real images, real plus generated, and generated only (CAS), on the
run's held-out real images; written into the run folder (augment.json, augment.csv)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint
from ganlib.cli.flags import add_checkpoint, add_device, add_runs_dir, check_device
from ganlib.explore.augment_report import reading, summary_table
from ganlib.explore.augmentation import AugmentSettings, augment_run
from ganlib.store.run_folder import find_run

try:
    from tqdm import tqdm
except ImportError:  # tqdm is in requirements.txt; without it there is just no bar
    tqdm = None

DEFAULTS = AugmentSettings()


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "augment", allow_abbrev=False, help="does GAN-made data help a classifier? augmentation curves and CAS",
        description="Train a small CNN on N real images per class, on the same plus K generated ones per class, "
                    "and on the generated ones only (the Classification Accuracy Score), over several seeds, and "
                    "test each on real images the generator never saw (the run must have trained on a split "
                    "that keeps some back, e.g. --dataset mnist5k_train). GAN-test is the real-only "
                    "classifiers' accuracy on the generated images. Prints the table and a plain reading on "
                    "stdout; writes augment.json and augment.csv into the run folder.")
    p.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    p.add_argument("--real-per-class", "--real_per_class", default=",".join(map(str, DEFAULTS.real_per_class)),
                   metavar="N,N,...", help="real images per class, comma-separated (default: %(default)s)")
    p.add_argument("--generated-per-class", "--generated_per_class", type=int, default=DEFAULTS.generated_per_class,
                   metavar="K", help="generated images per class (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=DEFAULTS.seeds, metavar="S",
                   help="seeds per arm and size: real subsets, generated images, classifier weights "
                        "(default: %(default)s)")
    p.add_argument("--steps", type=int, default=DEFAULTS.steps, metavar="N",
                   help="training steps of every classifier, batch 64 (default: %(default)s)")
    add_checkpoint(p, "best.pt, else the latest")
    add_device(p, "auto")
    p.add_argument("--json", metavar="OUT", help="also write the whole result as JSON to OUT ('-': stdout, "
                                                 "instead of the table)")
    p.add_argument("--no-progress", "--no_progress", action="store_true", help="no progress bar")
    add_runs_dir(p)
    return p


def sizes(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise CLIError("--real-per-class must be whole numbers separated by commas, e.g. 10,50,100; "
                       f"got {text!r}") from None
    if not values:
        raise CLIError("--real-per-class: give at least one size, e.g. 10,50,100")
    return values


def table_text(result: dict[str, Any]) -> str:
    rows = summary_table(result["records"])
    head = ("trained on (per class)", "tested on", "accuracy", "± std", "min", "max", "seeds")
    cells = [head] + [(r["trained_on"].removesuffix(" per class"), r["tested_on"], f"{r['accuracy']:.1%}",
                       f"{r['std']:.1%}", f"{r['min']:.1%}", f"{r['max']:.1%}", str(r["seeds"])) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    r = result
    lines = [f"run {r['run']} ({r['checkpoint']}, epoch {r['epoch']}): generator trained on "
             f"{r['generator_trained_on']:,} images of {r['dataset']}; tested on {r['heldout_images']:,} "
             f"images of {r['heldout']} it never saw; {r['seconds']:.0f} s on {r['device']}", ""]
    for c in cells:
        lines.append("  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(c, widths))))
    return "\n".join(lines + [""] + reading(result))


def run(args: argparse.Namespace) -> int:
    source = find_run(args.run, args.runs_dir)
    settings = AugmentSettings(real_per_class=sizes(args.real_per_class), generated_per_class=args.generated_per_class,
                               seeds=args.seeds, steps=args.steps)
    device = check_device(args.device)
    bar = None

    def progress(fraction: float, text: str) -> None:
        nonlocal bar
        if args.no_progress or tqdm is None:
            return
        if bar is None:  # from the first report on: a run refused at once prints no bar
            bar = tqdm(total=1000, file=sys.stderr, dynamic_ncols=True, leave=False,
                       bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        bar.set_description(text, refresh=False)
        bar.update(int(fraction * 1000) - bar.n)

    try:
        result = augment_run(source, settings, checkpoint=args.checkpoint, device=device, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    text = json.dumps(result, indent=2)
    if args.json and args.json != "-":
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    if args.json == "-":
        print(text)
    else:
        print(table_text(result))
    eprint(f"wrote {source.augment_file} and {source.augment_table_file}"
           + (f" and {args.json}" if args.json and args.json != "-" else ""))
    return OK


COMMANDS.add("augment", Command(add_parser, run))

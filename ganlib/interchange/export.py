"""Exports and imports: a run as a zip, its config as JSON or YAML, its metrics for TensorBoard,
and weights brought back in as a new run that the sampler can draw from.

    from ganlib.interchange import export
    data = export.export_zip(run)                         # bytes of <run>.zip
    cfg = export.load_config_file("run.yaml")             # .json, .yaml or .yml -> TrainConfig
    export.write_tensorboard(run)                         # <run>/tb/events.out.tfevents.<time>.ganlib
    new_run = export.import_file(data, "run.zip")         # or a .safetensors / .pt plus cfg=...

The zip holds one folder named after the run:

    manifest.json      format and version, model, dataset, epoch, the checkpoint it came from
    config.json  metrics.csv  evals.jsonl (if any)  samples/epoch_NNNN.png  recon/... (VAE)
    weights/G.safetensors  weights/D.safetensors  weights/G_ema.safetensors (when present)

Importing (the reverse, from files nobody vouches for) lives in `ganlib.interchange.importing`;
`import_file`, `ImportRefused` and `is_imported` are re-exported here for the pages and the CLI.

The command line (`add_cli` registers these on ganlib.cli's subparsers):

    python -m ganlib export RUN [--out FILE.zip] [--checkpoint NAME]
    python -m ganlib import FILE [--config CFG.yaml | --from-run RUN] [--num-classes N] [--epoch N]
    python -m ganlib config RUN [--format json|yaml] [--out FILE]
    python -m ganlib tensorboard [RUN ...]
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
import zipfile
from pathlib import Path
from typing import Optional, Sequence

from ganlib.core.atomic import atomic_write_bytes, atomic_write_text
from ganlib.store.config import TrainConfig
from ganlib.interchange.importing import (  # noqa: F401 - the import half, re-exported for pages and the CLI
    FORMAT, FORMAT_VERSION, IMPORTED_STATE, NETWORKS, ImportRefused, import_file, is_imported)
from ganlib.store.run_folder import Run, find_run, list_runs


# ---- config files ----------------------------------------------------------------------------
def config_text(cfg: TrainConfig, fmt: str = "json") -> str:
    """The config as JSON or YAML; either reads back into an equal TrainConfig."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "json":
        return cfg.to_json() + "\n"
    if fmt in ("yaml", "yml"):
        import yaml

        head = "# GAN Workbench TrainConfig. Reproduce with: python -m ganlib train --config THIS_FILE\n"
        return head + yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=False)
    raise ValueError(f"config format must be json or yaml, got {fmt!r}")


def parse_config_text(text: str, fmt: str = "json") -> TrainConfig:
    fmt = fmt.lower().lstrip(".")
    try:
        if fmt == "json":
            values = json.loads(text)
        elif fmt in ("yaml", "yml"):
            import yaml

            values = yaml.safe_load(text)
        else:
            raise ValueError(f"config format must be json or yaml, got {fmt!r}")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not valid JSON: {e}") from None
    except Exception as e:  # noqa: BLE001 - yaml.YAMLError without importing yaml at module level
        if type(e).__module__.startswith("yaml"):
            raise ValueError(f"not valid YAML: {' '.join(str(e).split())}") from None
        raise
    if not isinstance(values, dict):
        raise ValueError("a config file holds one mapping of field names to values")
    return TrainConfig.from_dict(values)


def load_config_file(path: str | Path) -> TrainConfig:
    """A TrainConfig from a .json, .yaml or .yml file (what `train --config FILE` reads)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"config file must end in .json, .yaml or .yml, got {path.name!r}")
    return parse_config_text(path.read_text(encoding="utf-8"), suffix)


def save_config_file(cfg: TrainConfig, path: str | Path) -> Path:
    path = Path(path)
    return atomic_write_text(path, config_text(cfg, path.suffix or "json"))


# ---- TensorBoard -------------------------------------------------------------------------------
def write_tensorboard(run: str | Path | Run) -> Path:
    """`<run>/tb/events.out.tfevents.<time>.ganlib` from metrics.csv: every numeric column except
    the epoch, one scalar per epoch (step = epoch). Earlier files written here are replaced, so
    `tensorboard --logdir checkpoints` shows each run once."""
    from ganlib.interchange import tfevents

    run = run if isinstance(run, Run) else find_run(run)
    rows = run.metrics()
    start = _run_start_time(run)
    events = []
    for row in rows:
        epoch = row.get("epoch")
        if not isinstance(epoch, float) or not math.isfinite(epoch):
            continue
        values = {k: v for k, v in row.items() if k != "epoch" and isinstance(v, float) and math.isfinite(v)}
        elapsed = row.get("elapsed_s")
        wall = start + elapsed if isinstance(elapsed, float) and math.isfinite(elapsed) else start
        events.append((int(epoch), wall, values))
    folder = run.path / "tb"
    old = list(folder.glob("events.out.tfevents.*.ganlib")) if folder.is_dir() else []
    path = folder / f"events.out.tfevents.{int(time.time())}.ganlib"
    tfevents.write_scalars(path, events, start_time=start)
    for p in old:
        if p != path:
            p.unlink(missing_ok=True)
    return path


def write_tensorboard_all(root: str | Path | None = None) -> list[Path]:
    return [write_tensorboard(r) for r in list_runs(root) if (r.path / "metrics.csv").is_file()]


def _run_start_time(run: Run) -> float:
    try:
        return (run.path / "config.json").stat().st_mtime
    except OSError:
        return time.time()


# ---- export ------------------------------------------------------------------------------------
def export_zip(run: str | Path | Run, checkpoint: str | Path | None = None) -> bytes:
    """The run as zip bytes; weights come from `checkpoint` (default: the latest)."""
    import safetensors.torch

    from ganlib.store.checkpoints import load_checkpoint
    from ganlib.store.checkpoints import find_checkpoint

    run = run if isinstance(run, Run) else find_run(run)
    ck_path = find_checkpoint(run, checkpoint)
    ck = load_checkpoint(ck_path)
    cfg = TrainConfig.from_dict(ck["config"])
    top = run.name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        nets = []
        for name in NETWORKS:
            sd = ck.get(name)
            if sd is None:
                continue
            tensors = {k: v.detach().cpu().contiguous().clone() for k, v in sd.items()}
            meta = {"ganlib_network": name, "ganlib_config": cfg.to_json(),
                    "num_classes": str(int(ck.get("num_classes", 10)))}
            zf.writestr(f"{top}/weights/{name}.safetensors", safetensors.torch.save(tensors, metadata=meta))
            nets.append(name)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run.name, "model": cfg.model,
                    "dataset": cfg.dataset, "epoch": int(ck.get("epoch", 0)),
                    "checkpoint": ck_path.relative_to(run.path).as_posix() if ck_path.is_relative_to(run.path)
                    else ck_path.name,
                    "networks": nets, "num_classes": int(ck.get("num_classes", 10)),
                    "class_names": [str(c) for c in ck.get("class_names") or []],
                    "imported": bool(ck.get("imported", False)), "exported": time.time()}
        zf.writestr(f"{top}/manifest.json", json.dumps(manifest, indent=2))
        zf.writestr(f"{top}/config.json", cfg.to_json())
        for name in ("metrics.csv", "evals.jsonl"):
            if (run.path / name).is_file():
                zf.write(run.path / name, f"{top}/{name}")
        for folder, grids in (("samples", run.samples()), ("recon", run.reconstructions())):
            for _, p in grids:
                zf.write(p, f"{top}/{folder}/{p.name}")
    return buf.getvalue()


def write_export(run: str | Path | Run, out: str | Path | None = None,
                 checkpoint: str | Path | None = None) -> Path:
    run = run if isinstance(run, Run) else find_run(run)
    out = Path(out) if out else run.path.parent / f"{run.name}.zip"
    return atomic_write_bytes(out, export_zip(run, checkpoint))


# ---- command line ------------------------------------------------------------------------------
def add_cli(sub: argparse._SubParsersAction) -> None:
    """Register `export`, `import`, `config` and `tensorboard` on ganlib.cli's subparsers
    (each sets `func`, which ganlib.cli.main calls)."""
    rd = dict(metavar="DIR", help="folder holding the runs (default: $GANLIB_RUNS_DIR or checkpoints/)")

    p = sub.add_parser("export", allow_abbrev=False, help="write a run as a zip (config, metrics, grids, weights)",
                       description="Write RUN as a zip: manifest.json, config.json, metrics.csv, evals.jsonl, "
                                   "samples/*.png and weights/{G,D,G_ema}.safetensors from one checkpoint. "
                                   "Prints the zip's path.")
    p.add_argument("run")
    p.add_argument("--out", metavar="FILE.zip", help="default: <runs-dir>/<run>.zip")
    p.add_argument("--checkpoint", metavar="NAME", help="e.g. epoch_0010.pt or best.pt (default: the latest)")
    p.add_argument("--runs-dir", "--runs_dir", **rd)
    p.set_defaults(func=cli_export)

    p = sub.add_parser("import", allow_abbrev=False, help="import a run zip or a weights file as a new run",
                       description="Import FILE (.zip from `export`, .safetensors, or a .pt/.pth state dict read "
                                   "with weights_only=True) as a new run that can be sampled. Prints the new run "
                                   "folder. A bare weights file needs --config or --from-run unless it carries "
                                   "its config.")
    p.add_argument("file")
    p.add_argument("--config", metavar="FILE", help="the TrainConfig the weights were trained with (.json/.yaml)")
    p.add_argument("--from-run", "--from_run", metavar="RUN", help="use this run's config")
    p.add_argument("--num-classes", "--num_classes", type=int, metavar="N",
                   help="classes of a conditional model (default: stored in the file, else 10)")
    p.add_argument("--epoch", type=int, metavar="N",
                   help="epoch to file bare weights under (default: the config's epochs)")
    p.add_argument("--runs-dir", "--runs_dir", **rd)
    p.set_defaults(func=cli_import)

    p = sub.add_parser("config", allow_abbrev=False, help="print or write a run's config as JSON or YAML",
                       description="Write RUN's TrainConfig as JSON or YAML; `train --config FILE` reproduces it.")
    p.add_argument("run")
    p.add_argument("--format", choices=["json", "yaml"], help="default: from --out's extension, else json")
    p.add_argument("--out", metavar="FILE", help="default: print to stdout")
    p.add_argument("--runs-dir", "--runs_dir", **rd)
    p.set_defaults(func=cli_config)

    p = sub.add_parser("tensorboard", allow_abbrev=False, help="write TensorBoard event files from metrics.csv",
                       description="Write <run>/tb/events.out.tfevents.*.ganlib for each RUN (default: every run), "
                                   "then: tensorboard --logdir <runs-dir>. Prints each file written.")
    p.add_argument("runs", nargs="*", metavar="RUN")
    p.add_argument("--runs-dir", "--runs_dir", **rd)
    p.set_defaults(func=cli_tensorboard)


def cli_export(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".zip":
        raise ValueError(f"--out must end in .zip, got {out.name!r}")
    print(write_export(find_run(args.run, args.runs_dir), out, args.checkpoint))
    return 0


def cli_import(args: argparse.Namespace) -> int:
    if args.config and args.from_run:
        raise ValueError("give --config or --from-run, not both")
    cfg = load_config_file(args.config) if args.config else (
        find_run(args.from_run, args.runs_dir).config() if args.from_run else None)
    run = import_file(Path(args.file), cfg=cfg, num_classes=args.num_classes, epoch=args.epoch,
                      runs_root=args.runs_dir)
    print(run.path)
    return 0


def cli_config(args: argparse.Namespace) -> int:
    cfg = find_run(args.run, args.runs_dir).config()
    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "json")
    if fmt == "yml":
        fmt = "yaml"
    text = config_text(cfg, fmt)
    if args.out:
        print(atomic_write_text(args.out, text))
    else:
        sys.stdout.write(text)
    return 0


def cli_tensorboard(args: argparse.Namespace) -> int:
    paths = ([write_tensorboard(find_run(r, args.runs_dir)) for r in args.runs] if args.runs
             else write_tensorboard_all(args.runs_dir))
    for p in paths:
        print(p)
    if not paths:
        print("no runs with metrics", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganlib.interchange.export", allow_abbrev=False,
                                     description="Export and import GAN Workbench runs.")
    add_cli(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

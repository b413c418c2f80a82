"""A run as a zip: what another GAN Workbench (or anyone with safetensors) needs to sample it,
see its curves and reproduce it.

    from ganlib.interchange import export
    data = export.export_zip(run)                         # bytes of <run>.zip
    path = export.write_export(run)                       # <runs-dir>/<run>.zip
    new_run = export.import_file(data, "run.zip")         # or a .safetensors / .pt plus cfg=...

The zip holds one folder named after the run:

    manifest.json      format and version, model, dataset, epoch, the checkpoint it came from
    config.json  metrics.csv  evals.jsonl (if any)  samples/epoch_NNNN.png  recon/... (VAE)
    weights/G.safetensors  weights/D.safetensors  weights/G_ema.safetensors (when present)

Importing (the reverse, from files nobody vouches for) lives in `ganlib.interchange.importing`;
`import_file`, `ImportRefused` and `is_imported` are re-exported here for the pages. Config
files are `ganlib.interchange.config_files`, TensorBoard logs `ganlib.interchange.tensorboard`.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import safetensors.torch

from ganlib.core.atomic import atomic_write_bytes
from ganlib.interchange.importing import (  # noqa: F401 - the import half, re-exported for the pages
    FORMAT,
    IMPORTED_STATE,
    NETWORKS,
    ZIP_FORMAT_VERSION,
    ImportRefused,
    import_file,
    is_imported,
)
from ganlib.store.access import LOCAL, Actor, require
from ganlib.store.checkpoint_format import load_checkpoint, networks
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run, find_run


def export_zip(run: str | Path | Run, checkpoint: str | Path | None = None, actor: Actor = LOCAL) -> bytes:
    """The run as zip bytes; weights come from `checkpoint` (default: the latest). Only for a
    run `actor` manages (a shared server's users export their own)."""
    run = run if isinstance(run, Run) else find_run(run)
    require(actor, run, "export")
    ck_path = find_checkpoint(run, checkpoint)
    ck = load_checkpoint(ck_path)
    cfg = TrainConfig.from_dict(ck["config"])
    top = run.name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        nets = []
        for name, sd in networks(ck).items():
            if name not in NETWORKS:  # the networks a run zip knows (G, D, G_ema)
                continue
            tensors = {k: v.detach().cpu().contiguous().clone() for k, v in sd.items()}
            meta = {"ganlib_network": name, "ganlib_config": cfg.to_json(),
                    "num_classes": str(int(ck.get("num_classes", 10)))}
            zf.writestr(f"{top}/weights/{name}.safetensors", safetensors.torch.save(tensors, metadata=meta))
            nets.append(name)
        manifest = {"format": FORMAT, "format_version": ZIP_FORMAT_VERSION, "run": run.name, "model": cfg.model,
                    "dataset": cfg.dataset, "epoch": int(ck.get("epoch", 0)),
                    "checkpoint": ck_path.relative_to(run.path).as_posix() if ck_path.is_relative_to(run.path)
                    else ck_path.name,
                    "networks": nets, "num_classes": int(ck.get("num_classes", 10)),
                    "class_names": [str(c) for c in ck.get("class_names") or []],
                    "imported": bool(ck.get("imported", False)), "exported": time.time()}
        zf.writestr(f"{top}/manifest.json", json.dumps(manifest, indent=2))
        zf.writestr(f"{top}/config.json", cfg.to_json())
        for path in (run.metrics_file, run.evals_file):
            if path.is_file():
                zf.write(path, f"{top}/{path.name}")
        for folder, grids in (("samples", run.samples()), ("recon", run.reconstructions())):
            for _, p in grids:
                zf.write(p, f"{top}/{folder}/{p.name}")
    return buf.getvalue()


def write_export(run: str | Path | Run, out: str | Path | None = None,
                 checkpoint: str | Path | None = None, actor: Actor = LOCAL) -> Path:
    run = run if isinstance(run, Run) else find_run(run)
    out = Path(out) if out else run.path.parent / f"{run.name}.zip"
    return atomic_write_bytes(out, export_zip(run, checkpoint, actor))

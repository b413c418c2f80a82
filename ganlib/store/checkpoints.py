"""Finding a run's checkpoints and loading their generators: the one lookup (`find_checkpoint`),
the choices every picker offers, and `load_handle`. What a checkpoint holds, and its versions,
is `store.checkpoint_format`'s business.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ganlib.core.errors import NotFound
from ganlib.models import MODELS, build_models, latent_size
from ganlib.models.handle import GeneratorHandle
from ganlib.store.checkpoint_format import load_checkpoint, sampler_weights
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run


def load_handle(path: str | Path, device: str | torch.device = "cpu") -> GeneratorHandle:
    """The generator of a checkpoint in eval mode (its EMA weights when the run kept them), with
    what sampling it needs."""
    ck = load_checkpoint(path, map_location=device)
    cfg = TrainConfig.from_dict(ck["config"])
    num_classes = int(ck.get("num_classes", 10))
    G, _ = build_models(cfg, num_classes)
    G.load_state_dict(sampler_weights(ck))
    spec = MODELS.get(cfg.model)
    return GeneratorHandle(G.to(device).eval(), latent_size(cfg), num_classes, spec.conditional,
                           [str(c) for c in ck.get("class_names") or []], spec.kind, int(ck.get("epoch", 0)),
                           str(path), cfg.to_dict())


def find_checkpoint(run: Run, checkpoint: str | Path | None = None, *, prefer_best: bool = False) -> Path:
    """The one lookup of a run's checkpoint. `checkpoint` is a path, or a bare name such as
    "best.pt" or "epoch_0004.pt" in the run's ckpt/ folder; None is the latest epoch, or best.pt
    with `prefer_best` when the run has one (metrics default to the lowest-FID state)."""
    if checkpoint:
        p = Path(checkpoint)
        if not p.is_file():
            p = run.checkpoint_dir / str(checkpoint)
        if not p.is_file():
            raise NotFound(f"no checkpoint {checkpoint} in {run.path}")
        return p
    if prefer_best and run.best_checkpoint_path().is_file():
        return run.best_checkpoint_path()
    latest = run.latest_checkpoint()
    if latest is None:
        raise NotFound(f"run {run.name} has no checkpoint yet; train at least until the first one is written")
    return latest


def checkpoint_choices(run: Run) -> list[tuple[str, str]]:
    """(file name, label) of every checkpoint of the run, newest first, best.pt first of all
    when it exists: what every checkpoint picker offers."""
    out = []
    if run.best_checkpoint_path().is_file():
        best_epoch = run.best_epoch()
        out.append(("best.pt", "best.pt: lowest FID" + (f" (epoch {best_epoch})" if best_epoch else "")))
    out += [(p.name, f"epoch {e}") for e, p in reversed(run.checkpoints())]
    return out

"""Checkpoints: everything a run needs to continue exactly, written atomically, read safely.

A checkpoint is a plain dict of tensors and primitives (no pickled classes), so it loads with
`torch.load(weights_only=True)`: a checkpoint from a stranger cannot run code on load.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganlib.core.atomic import atomic_torch_save
from ganlib.models import MODELS, build_models, latent_size
from ganlib.models.handle import GeneratorHandle
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

FORMAT_VERSION = 1


def capture_rng(device: torch.device) -> dict[str, Any]:
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def restore_rng(rng: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(rng["torch"])
    if device.type == "cuda" and "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"], device)


def clone_state(obj: Any) -> Any:
    """A deep copy of a state dict's tensors: the in-memory 'last good' snapshot. Copies are
    contiguous, so a run trained channels-last saves the same tensors as one that was not."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone(memory_format=torch.contiguous_format)
    if isinstance(obj, dict):
        return {k: clone_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(clone_state(v) for v in obj)
    return obj


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    return atomic_torch_save(path, {"version": FORMAT_VERSION, **state})


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - corrupt, truncated or hostile files all land here
        raise ValueError(f"{path} is not a loadable GAN Workbench checkpoint: {str(e).splitlines()[0][:200]}") from None
    if not isinstance(ck, dict) or "G" not in ck or "config" not in ck:
        raise ValueError(f"{path} is not a GAN Workbench checkpoint (no generator or config in it)")
    return ck


def load_handle(path: str | Path, device: str | torch.device = "cpu") -> GeneratorHandle:
    """The generator of a checkpoint in eval mode (its EMA weights when the run kept them), with
    what sampling it needs."""
    ck = load_checkpoint(path, map_location=device)
    cfg = TrainConfig.from_dict(ck["config"])
    num_classes = int(ck.get("num_classes", 10))
    G, _ = build_models(cfg, num_classes)
    G.load_state_dict(ck["G_ema"] if ck.get("G_ema") is not None else ck["G"])
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
            raise FileNotFoundError(f"no checkpoint {checkpoint} in {run.path}")
        return p
    if prefer_best and run.best_checkpoint_path().is_file():
        return run.best_checkpoint_path()
    latest = run.latest_checkpoint()
    if latest is None:
        raise FileNotFoundError(f"run {run.name} has no checkpoint yet; train at least until the first one is written")
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

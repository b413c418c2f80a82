"""The checkpoint format: the one module that builds, writes, reads and validates a checkpoint.
The trainer, a fork, an import and an export all go through it, and nothing else names a
checkpoint's keys except to read a value it documents.

A checkpoint is a flat dict of tensors and primitives (no pickled classes), so it loads with
`torch.load(weights_only=True)`: a checkpoint from a stranger cannot run code on load. It is
written atomically (temp file + rename).

    ck = build_checkpoint(epoch=3, config=cfg.to_dict(), networks={"G": G.state_dict(), "D": None},
                          optimizers={"opt_g": opt.state_dict()}, rng=capture_rng(device), ...)
    save_checkpoint(path, ck)
    ck = load_checkpoint(path)              # validated; a version-1 file is upgraded on read
    sampler_weights(ck)                     # G_ema's state dict when the run kept one, else G's

Versions (`version`):
- 1: the keys below without "networks" and "optimizers"; the networks were always G, D and
  G_ema, the optimizers opt_g and opt_d (None where a model has none).
- 2: adds "networks" and "optimizers", the names of the entries that hold a network's or an
  optimizer's state dict (an update rule's `models()` / `optimizers()`), so that import,
  export, a fork or the kill campaign never hard-code them and a new family may name its own.

Keys (both versions): version, epoch, config (TrainConfig.to_dict), each network and optimizer
by name (None when absent), rng ({"torch": ..., "cuda": ...}), fixed_z, fixed_labels,
num_classes, class_names, metrics (rows up to epoch), evals, best_fid, evals_since_best, edits,
any extra state of an update rule (CycleGAN's history pools) and, for an imported run,
imported / imported_from / imported_at (no optimizer state: sample it, do not resume it).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import torch

from ganlib.core.atomic import atomic_torch_save
from ganlib.core.errors import BadValue

FORMAT_VERSION = 2
V1_NETWORKS = ("G", "D", "G_ema")
V1_OPTIMIZERS = ("opt_g", "opt_d")
REQUIRED = ("epoch", "config", "G")


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


def build_checkpoint(*, epoch: int, config: dict[str, Any], networks: Mapping[str, Optional[dict]],
                     optimizers: Mapping[str, Optional[dict]], rng: dict[str, Any], fixed_z: torch.Tensor,
                     fixed_labels: Optional[torch.Tensor], num_classes: int, class_names: Sequence[str] = (),
                     metrics: Sequence[dict] = (), evals: Sequence[dict] = (), best_fid: float = math.inf,
                     evals_since_best: int = 0, edits: Sequence[dict] = (),
                     extra: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """A checkpoint of the current version from its parts (not yet written)."""
    clash = set(networks) & set(optimizers) or (set(networks) | set(optimizers)) & set(_FIXED_KEYS)
    if clash:
        raise BadValue(f"checkpoint entry {sorted(clash)[0]!r} is named twice")
    if "G" not in networks or networks["G"] is None:
        raise BadValue("a checkpoint needs the generator's weights (G)")
    ck = {
        "version": FORMAT_VERSION, "epoch": int(epoch), "config": dict(config),
        "networks": list(networks), "optimizers": list(optimizers),
        **networks, **optimizers, **(extra or {}),
        "rng": rng, "fixed_z": fixed_z, "fixed_labels": fixed_labels,
        "num_classes": int(num_classes), "class_names": [str(c) for c in class_names],
        "metrics": [dict(r) for r in metrics], "evals": [dict(e) for e in evals],
        "best_fid": float(best_fid), "evals_since_best": int(evals_since_best), "edits": [dict(e) for e in edits],
    }
    return ck


_FIXED_KEYS = ("version", "epoch", "config", "networks", "optimizers", "rng", "fixed_z", "fixed_labels",
               "num_classes", "class_names", "metrics", "evals", "best_fid", "evals_since_best", "edits")


def save_checkpoint(path: str | Path, ck: dict[str, Any]) -> Path:
    """Write `ck` atomically as the current version (a version-1 dict read earlier is upgraded)."""
    ck = upgrade(dict(ck), str(path))
    validate(ck, str(path))
    return atomic_torch_save(path, ck)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate a checkpoint, upgraded to the current version; ValueError for a file
    that is not one (corrupt, truncated, hostile, from a newer GAN Workbench)."""
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - corrupt, truncated or hostile files all land here
        raise BadValue(f"{path} is not a loadable GAN Workbench checkpoint: {str(e).splitlines()[0][:200]}") from None
    if not isinstance(ck, dict) or "G" not in ck or "config" not in ck:
        raise BadValue(f"{path} is not a GAN Workbench checkpoint (no generator or config in it)")
    ck = upgrade(ck, str(path))
    validate(ck, str(path))
    return ck


def upgrade(ck: dict[str, Any], where: str) -> dict[str, Any]:
    """`ck` in the current version: a version-1 checkpoint gets its network and optimizer names."""
    version = ck.get("version", 1)
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise BadValue(f"{where}: checkpoint version {version!r}; this GAN Workbench reads versions 1 to "
                         f"{FORMAT_VERSION}")
    if version == 1:
        ck["networks"] = [n for n in V1_NETWORKS if n in ck]
        ck["optimizers"] = [n for n in V1_OPTIMIZERS if n in ck]
    ck["version"] = FORMAT_VERSION
    return ck


def validate(ck: dict[str, Any], where: str) -> None:
    """Raise ValueError naming what is wrong with a checkpoint of the current version."""
    missing = [k for k in REQUIRED if k not in ck]
    if missing:
        raise BadValue(f"{where}: the checkpoint has no {missing[0]}")
    if not isinstance(ck["config"], dict):
        raise BadValue(f"{where}: the checkpoint's config is not a mapping")
    epoch = ck["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise BadValue(f"{where}: the checkpoint's epoch {epoch!r} is not an epoch number")
    for kind in ("networks", "optimizers"):
        names = ck.get(kind)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadValue(f"{where}: the checkpoint's {kind} must be a list of names")
        for n in names:
            sd = ck.get(n)
            if sd is not None and not isinstance(sd, dict):
                raise BadValue(f"{where}: the checkpoint's {n} is not a state dict")
    if "G" not in ck["networks"] or ck["G"] is None:
        raise BadValue(f"{where}: the checkpoint has no generator weights")


def networks(ck: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The networks' state dicts present in `ck`, by name (absent ones, such as a VAE's D, left out)."""
    return {n: ck[n] for n in ck["networks"] if ck.get(n) is not None}


def optimizers(ck: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: ck[n] for n in ck["optimizers"] if ck.get(n) is not None}


def sampler_weights(ck: dict[str, Any]) -> dict[str, Any]:
    """The generator samples are drawn from: the EMA copy when the run kept one, else G."""
    return ck["G_ema"] if ck.get("G_ema") is not None else ck["G"]


def with_config(ck: dict[str, Any], config: dict[str, Any], edits: Sequence[dict]) -> dict[str, Any]:
    """`ck` with another config and edit history (a fork): the same state, a new run's settings."""
    return {**ck, "config": dict(config), "edits": [dict(e) for e in edits]}

"""Forking: a new run that continues from any checkpoint of another with edited hyperparameters.

The fork gets the full state at that checkpoint (models, EMA, optimizers, RNG, epoch, fixed
latents, metric history), so its curves continue the parent's and overlay them exactly up to
the fork point; `fork.json` and `edits.jsonl` record where it branched and what changed. Fields
that shape tensors or the data cannot change: the saved weights would no longer fit.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

from ganlib.core.errors import NotFound
from ganlib.store.access import LOCAL, Actor, require
from ganlib.store.checkpoint_format import load_checkpoint, save_checkpoint, with_config
from ganlib.store.config import TrainConfig, with_changes
from ganlib.store.run_folder import Run, new_run_dir


def checkpoint_config(path: str | Path) -> dict[str, Any]:
    """The config a checkpoint was saved with (live edits included): what a fork starts from."""
    return TrainConfig.from_dict(load_checkpoint(path)["config"]).to_dict()


def fork(parent: Run, changes: dict[str, Any], checkpoint: str | Path | None = None,
         runs_dir: str | Path | None = None, actor: Actor = LOCAL) -> Run:
    """Create the fork (not trained yet) in `runs_dir`, by default beside its parent; resume it
    with `train(cfg, resume=fork.path)` or the job manager. `changes` are TrainConfig fields;
    `epochs` defaults to the parent's. `actor` must manage the parent, and owns the fork."""
    require(actor, parent, "fork")
    ck_path = Path(checkpoint) if checkpoint else parent.latest_checkpoint()
    if ck_path is None or not ck_path.is_file():
        raise NotFound(f"run {parent.name} has no checkpoint {checkpoint or ''} to fork from".strip())
    ck = load_checkpoint(ck_path)
    base = TrainConfig.from_dict(ck["config"])
    epoch = int(ck["epoch"])
    cfg = with_changes(base, changes, "fork")
    if cfg.epochs <= epoch:
        cfg = cfg.replace(epochs=max(epoch + 1, parent.config().epochs))
    run = Run(new_run_dir(cfg, runs_dir or parent.path.parent))  # beside its parent by default
    run.write_owner(actor.name)
    run.save_config(cfg)
    diff = {k: [getattr(base, k), getattr(cfg, k)] for k in changes if getattr(base, k) != getattr(cfg, k)}
    edits = [e for e in ck.get("edits", []) if e["epoch"] <= epoch] + \
        [{"epoch": epoch, "source": "fork", "changes": diff}]
    save_checkpoint(run.checkpoint_path(epoch), with_config(ck, cfg.to_dict(), edits))
    run.write_metrics([dict(r) for r in ck.get("metrics", [])][:epoch])
    run.write_evals([e for e in ck.get("evals", []) if e["epoch"] <= epoch])
    run.write_edits(edits)
    run.sample_path(0).parent.mkdir(parents=True, exist_ok=True)
    for e, png in parent.samples():
        if e <= epoch:
            shutil.copy2(png, run.sample_path(e))
    run.write_fork_info({"parent": parent.name, "parent_path": str(parent.path), "checkpoint": ck_path.name,
                         "epoch": epoch, "changes": diff})
    run.write_status(state="stopped", epoch=epoch, epochs=cfg.epochs,
                     notes=[f"Forked from {parent.name} at epoch {epoch}: "
                            + (", ".join(f"{k} {a} -> {b}" for k, (a, b) in diff.items()) or "no changes")
                            + ". Resume it to train."])
    return run


def lineage(run: Run, root: Optional[Path] = None) -> list[Run]:
    """The run, its parent, the parent's parent...: for overlaying a fork's curves on its ancestors'."""
    chain, seen = [run], {run.path.resolve()}
    while (info := chain[-1].fork_info()) is not None:
        p = Path(info["parent_path"])
        if not Run(p).config_file.is_file() or p.resolve() in seen:
            break
        chain.append(Run(p))
        seen.add(p.resolve())
    return chain

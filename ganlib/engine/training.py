"""The one training entry point: the dashboard's job manager, the CLI, the benchmarks and the
tests all call `train`.

    from ganlib.store.config import TrainConfig
    from ganlib.engine.training import train
    result = train(TrainConfig(epochs=5), callbacks=Callbacks(on_epoch=print))

`prepare` loads the data and builds (or restores) the models before any run folder exists for
a new run, so a bad config or missing data leaves nothing behind; `train` then records every
outcome (completed, stopped, diverged, failed) in the run's status.json.
"""
from __future__ import annotations

import shutil
import traceback
from pathlib import Path
from typing import Optional

import torch

from ganlib.core import distributed as world
from ganlib.core.devices import resolve_device
from ganlib.core.errors import ConfigError, Diverged
from ganlib.core.threads import torch_threads
from ganlib.data import Progress, load_run_data
from ganlib.engine import distributed
from ganlib.engine.callbacks import Callbacks, TrainResult
from ganlib.engine.memory import check_fits
from ganlib.engine.trainer import Trainer
from ganlib.store.checkpoint_format import load_checkpoint
from ganlib.store.config import TrainConfig
from ganlib.store.config_rules import check_against_data
from ganlib.store.run_folder import Run, check_runs_root, new_run_dir
from ganlib.store.run_folder import runs_dir as runs_root
from ganlib.store.run_lock import RunLock


def prepare(cfg: TrainConfig, *, runs_dir: str | Path | None = None, resume: str | Path | None = None,
            device: Optional[torch.device] = None, lock: Optional[list[RunLock]] = None,
            progress: Optional[Progress] = None, owner: str = "local") -> Trainer:
    """Load data, build or restore the models. Raises ConfigError / DatasetUnavailable (a
    config that cannot fit in memory included) before any run folder is created for a new run,
    so a bad config leaves nothing behind. With `lock` (a list, as `train` passes), the run's
    training lock is taken as soon as the run is known and appended to it; a resume then also
    removes the temp files a killed writer left. `progress(fraction, text)` hears how the data
    loads (a folder's first load decodes every file into its pack). A new run belongs to `owner`
    (owner.json)."""
    device = device or resolve_device(cfg.device)
    if resume is None:
        check_runs_root(runs_root(runs_dir))  # before the data loads: a typo costs no wait
    else:
        run = Run(Path(resume))
        if lock is not None:
            lock.append(RunLock(run).acquire())  # refuses a second trainer before the data loads
            run.remove_temp_files()

    def fits(n_images: int, num_classes: int, pixel_bytes: int) -> bool:
        return check_fits(cfg, device, n_images, num_classes, pixel_bytes=pixel_bytes)

    data = load_run_data(cfg, device, fits=fits, progress=progress)
    kind = "images" if data.source is None else "paired" if data.paired else "unpaired"
    check_against_data(cfg, len(data), data.labels is not None, kind)
    torch.manual_seed(cfg.seed)
    if resume is None:
        run = Run(new_run_dir(cfg, runs_dir))
        if lock is not None:
            lock.append(RunLock(run).acquire())
        try:
            run.write_owner(owner)
            run.save_config(cfg)
            trainer = Trainer(cfg, run, data, device)
        except BaseException:  # a run that never started leaves no folder behind
            shutil.rmtree(run.path, ignore_errors=True)
            raise
    else:
        trainer = Trainer(cfg, run, data, device)
        ck_path = run.latest_checkpoint()
        if ck_path is not None:
            trainer.load_state(load_checkpoint(ck_path, map_location=device))
        if cfg.epochs < trainer.epoch:
            raise ConfigError("epochs", f"the run has already trained {trainer.epoch} epochs; "
                                        f"resume to at least that many, not {cfg.epochs}")
        run.save_config(cfg)  # resuming may raise the epoch count
        run.write_metrics(trainer.rows)  # drop rows and evaluations of epochs after the checkpoint
        run.write_evals(trainer.evals)
        run.keep_stream_until(trainer.epoch)
        trainer.write_edits()
    return trainer


def kept(saved_epoch: int) -> str:
    """What a stopped run keeps (its newest checkpoint's epoch, 0: none), said only when it is true."""
    if saved_epoch >= 1:
        return f"the last good epoch ({saved_epoch}) is kept as a checkpoint."
    return "no epoch finished before that, so there is no checkpoint to resume from."


def train(cfg: TrainConfig, *, runs_dir: str | Path | None = None, resume: str | Path | None = None,
          callbacks: Optional[Callbacks] = None, owner: str = "local") -> TrainResult:
    """Train a new run, or continue `resume` (a run folder) up to `cfg.epochs` epochs.

    Config and data errors raise before anything is written. Once the run exists, every
    outcome (completed, stopped, diverged, failed) is written to its status.json and returned;
    failures keep their traceback there for the UI. A new run belongs to `owner`."""
    with torch_threads(cfg.cpu_threads):  # this thread only: the dashboard's server keeps its own
        device = distributed.join(cfg.device)  # None outside a torchrun job
        if device is None:
            return _train(cfg, runs_dir, resume, callbacks or Callbacks(), None, owner)
        scratch = None if world.is_lead() else distributed.scratch_dir()
        try:
            return _train(cfg, scratch or runs_dir, resume, callbacks if scratch is None else Callbacks(), device,
                          owner)
        finally:
            distributed.cleanup(scratch)
            distributed.leave()


def _train(cfg: TrainConfig, runs_dir, resume, cb: Callbacks, device: Optional[torch.device],
           owner: str = "local") -> TrainResult:
    held: list[RunLock] = []
    try:
        return _train_locked(cfg, runs_dir, resume, cb, held, device, owner)
    finally:
        for lock in held:
            lock.release()


def _prepare_rank(cfg: TrainConfig, runs_dir, resume, held: list[RunLock], device: Optional[torch.device],
                  progress: Optional[Progress] = None, owner: str = "local") -> Trainer:
    """Rank 0 (or a plain process) prepares the run; another rank of a torchrun job starts a
    throwaway run in its scratch folder and loads the same checkpoint, leaving the run alone."""
    if world.is_lead():
        return prepare(cfg, runs_dir=runs_dir, resume=resume, lock=held, device=device, progress=progress,
                       owner=owner)
    trainer = prepare(cfg, runs_dir=runs_dir, device=device)
    ck_path = Run(Path(resume)).latest_checkpoint() if resume is not None else None
    if ck_path is not None:
        trainer.load_state(load_checkpoint(ck_path, map_location=trainer.device))
    return trainer


def _train_locked(cfg: TrainConfig, runs_dir, resume, cb: Callbacks, held: list[RunLock],
                  device: Optional[torch.device] = None, owner: str = "local") -> TrainResult:
    trainer = _prepare_rank(cfg, runs_dir, resume, held, device, cb.on_data, owner)
    run = trainer.run
    run.write_status(state="running", epoch=trainer.epoch, epochs=cfg.epochs, error=None, traceback=None,
                     device=str(trainer.device), data_note=trainer.data.note)
    cb.on_start(run)
    error = tb = None
    diverged = None
    try:
        state = trainer.fit(cb)
    except Diverged as e:
        state, diverged = "diverged", e
    except Exception as e:  # noqa: BLE001 - any failure is recorded for the UI, then re-raised by callers who care
        state, error, tb = "failed", f"{type(e).__name__}: {e}", traceback.format_exc()
        if world.active() and world.is_lead():  # a torchrun job: rank 0 records the rank that failed
            error = distributed.explain(error)
        elif world.active():
            distributed.report_failure(error)
    trainer.save_snapshot()
    trainer.close()
    if diverged is not None:
        error = f"{diverged}. Training stopped; {kept(trainer.saved_epoch)} Try lower learning rates."
    run.write_status(state=state, epoch=trainer.epoch, epochs=trainer.cfg.epochs, error=error, traceback=tb,
                     notes=trainer.notes)
    return TrainResult(run, state, trainer.epoch, trainer.rows, error)

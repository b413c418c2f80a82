"""Sweeps on Ray Tune: every setting x seed of a `SweepSpec` is one Tune trial, and every trial
is the ordinary engine (`training.train`) writing an ordinary run folder into the sweep folder.

    sweep = new_sweep_dir(spec, runs_root)
    run_sweep(sweep)                        # local Ray, started and stopped here
    run_sweep(sweep, address="auto")        # an existing Ray cluster (shared filesystem)

Ray Tune schedules the trials over the cluster's CPUs and GPUs (`cpus_per_trial`,
`gpus_per_trial`); each trial trains for the spec's `time_budget` seconds and reports every
epoch's FID to Tune, so ASHA (`asha: true`) can stop the worst trials early. The settings are
fixed before Tune starts (`SweepSpec.settings`) and Tune runs the settings x seeds grid, so every
setting gets every seed. This module imports Ray; only the sweep command does.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Optional

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import train
from ganlib.store.run_folder import LIVE_STATES
from ganlib.store.sweep_folder import Sweep
from ganlib.store.sweep_spec import SweepSpec

PACKAGE = Path(__file__).resolve().parents[1]  # ganlib/, shipped to a remote cluster's workers


def _trial(config: dict[str, Any], spec: dict[str, Any], sweep_dir: str) -> None:
    """One Tune trial: one setting with one seed, trained by the ordinary engine."""
    s = SweepSpec.from_dict(spec)
    setting = s.settings()[config["setting"]]
    cfg = s.trial_config(setting, config["seed"])
    if cfg.cpu_threads == 0:  # a trial's torch threads are the CPUs Tune gave it, not the machine's
        cfg = cfg.replace(cpu_threads=max(1, int(s.cpus_per_trial)))

    def on_epoch(row: dict[str, Any]) -> None:
        fid = row.get("fid")
        if s.asha and fid is None:
            return  # ASHA compares trials on FID: report only the evaluated epochs
        tune.report({"epoch": row["epoch"], "elapsed_s": row["elapsed_s"],
                     "fid": float(fid) if fid is not None else math.nan})

    result = train(cfg, runs_dir=sweep_dir, callbacks=Callbacks(on_epoch=on_epoch))
    tune.report({"epoch": result.epoch, "run": str(result.run.path), "state": result.state,
                 "fid": next((float(r["fid"]) for r in reversed(result.rows) if r.get("fid") is not None), math.nan)})


def run_sweep(sweep: Sweep, *, address: Optional[str] = None, num_cpus: Optional[int] = None,
              verbose: int = 1) -> list[dict[str, Any]]:
    """Run every trial of `sweep` and return Tune's last report of each. Local Ray (started
    and stopped here) unless `address` names a cluster."""
    spec = sweep.spec()
    n_settings = len(spec.settings())
    repo = str(PACKAGE.parent)
    if address:  # remote workers get the package itself; the runs folder must be shared storage
        ray.init(address=address, runtime_env={"py_modules": [str(PACKAGE)]}, log_to_driver=verbose > 0)
    else:
        env = {"PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)}
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=verbose > 0,
                 runtime_env={"env_vars": env})
    try:
        trainable = tune.with_resources(
            tune.with_parameters(_trial, spec=spec.to_dict(), sweep_dir=str(sweep.path)),
            {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial})
        scheduler = ASHAScheduler(metric="fid", mode="min", grace_period=1) if spec.asha else None
        tuner = tune.Tuner(
            trainable,
            param_space={"setting": tune.grid_search(list(range(n_settings))), "seed": tune.grid_search(spec.seeds)},
            tune_config=tune.TuneConfig(scheduler=scheduler, max_concurrent_trials=spec.max_concurrent or None),
            run_config=tune.RunConfig(name="tune", storage_path=str(sweep.path), verbose=verbose,
                                      failure_config=tune.FailureConfig(max_failures=0)))
        grid = tuner.fit()
        _settle_stopped_trials(sweep)
        return [dict(r.metrics or {}, error=str(r.error) if r.error else None) for r in grid]
    finally:
        ray.shutdown()


def _settle_stopped_trials(sweep: Sweep) -> None:
    """Tune has ended every trial; one it stopped early (ASHA) had its worker killed mid-loop, and
    a Ray worker's process may live on for the next task, so its status.json still said
    'running' (the table showed a finished sweep with a running trial). Say what happened."""
    for run in sweep.trials():
        if run.status().get("state") in LIVE_STATES:
            run.write_status(state="interrupted", stopped_by="the sweep's scheduler (ASHA) or Ray Tune")

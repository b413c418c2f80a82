"""What a sweep is: a base config, the fields to vary (a grid, or random draws), the seeds every
setting is trained with, and the equal time budget of each trial.

    name: lr-study
    base: {model: mlp_gan, max_images: 2048, epochs: 100, eval_every: 1}
    grid: {lr_g: [1.0e-4, 2.0e-4], loss: [hinge, nonsaturating]}
    # or: random: {lr_g: {loguniform: [1.0e-5, 1.0e-3]}, loss: {choice: [hinge, lsgan]}}, samples: 6
    seeds: [0, 1, 2]
    time_budget: 120        # seconds of training per trial, the same for every trial
    quality_fid: 40         # time-to-quality: the first elapsed second at which FID <= this
    asha: false             # Ray Tune's ASHA stops the worst trials early on FID

Every setting is checked as a TrainConfig before anything runs, so a typo is one line naming the
field. Random settings are drawn here, once, from `search_seed`, so each is trained with every
seed (Ray Tune then schedules the settings x seeds grid).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any

from ganlib.core.errors import ConfigError
from ganlib.store.config import TrainConfig, field_specs

DISTRIBUTIONS = ("uniform", "loguniform", "randint", "choice")
NOT_VARIED = ("seed", "time_budget")  # the sweep sets them itself


def sweep_error(where: str, message: str) -> ConfigError:
    return ConfigError(f"sweep {where}", message)


@dataclass(frozen=True)
class SweepSpec:
    name: str = "sweep"
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    samples: int = 4  # random settings drawn (random search only)
    search_seed: int = 0
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    time_budget: float = 60.0
    quality_fid: float = 50.0
    asha: bool = False
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int = 0  # 0: as many as the cluster's resources allow

    @classmethod
    def from_dict(cls, values: Any) -> "SweepSpec":
        if not isinstance(values, dict):
            raise sweep_error("spec", "a sweep spec is one mapping (name, base, grid or random, seeds, ...)")
        known = {f.name for f in dataclasses.fields(cls)}
        for k in values:
            if k not in known:
                raise sweep_error(str(k), f"is not a sweep setting; known: {', '.join(sorted(known))}")
        spec = cls(**values)
        spec.check()
        return spec

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def varied(self) -> list[str]:
        """The config fields that tell the settings apart."""
        return list(self.grid or self.random)

    def check(self) -> None:
        fields = {f.name for f in field_specs()}
        if not isinstance(self.base, dict) or not isinstance(self.grid, dict) or not isinstance(self.random, dict):
            raise sweep_error("spec", "base, grid and random are mappings of config fields")
        if self.grid and self.random:
            raise sweep_error("grid", "give a grid or random draws, not both")
        for k in [*self.base, *self.grid, *self.random]:
            if k not in fields:
                raise sweep_error(str(k), "is not a config field (see python -m ganlib train --help)")
            if k in NOT_VARIED and k not in self.base:
                raise sweep_error(k, "is set by the sweep itself: list seeds under `seeds`, "
                                     "the budget as `time_budget`")
        for k, v in self.grid.items():
            if not isinstance(v, list) or not v:
                raise sweep_error(k, "a grid field takes a non-empty list of values")
        for k, d in self.random.items():
            if not (isinstance(d, dict) and len(d) == 1 and next(iter(d)) in DISTRIBUTIONS):
                raise sweep_error(k, f"a random field is one of {', '.join(DISTRIBUTIONS)}: "
                                     "e.g. {loguniform: [1e-5, 1e-3]}")
        if not self.seeds or not all(isinstance(s, int) and s >= 0 for s in self.seeds):
            raise sweep_error("seeds", "a non-empty list of non-negative integers")
        if len(set(self.seeds)) != len(self.seeds):
            raise sweep_error("seeds", "each seed once")
        if not (isinstance(self.time_budget, (int, float)) and self.time_budget > 0):
            raise sweep_error("time_budget", "the seconds every trial trains: a positive number")
        if self.random and not (isinstance(self.samples, int) and self.samples >= 1):
            raise sweep_error("samples", "the number of random settings: at least 1")
        for setting in self.settings():
            self.trial_config(setting, self.seeds[0])  # every setting is a valid config

    def settings(self) -> list[dict[str, Any]]:
        """The distinct settings: the grid's product, or `samples` random draws."""
        if self.grid:
            keys = list(self.grid)
            return [dict(zip(keys, vals)) for vals in itertools.product(*(self.grid[k] for k in keys))]
        if self.random:
            rng = random.Random(self.search_seed)
            return [{k: _draw(rng, k, d) for k, d in self.random.items()} for _ in range(self.samples)]
        return [{}]

    def trial_config(self, setting: dict[str, Any], seed: int) -> TrainConfig:
        try:
            return TrainConfig.from_dict({**self.base, **setting, "seed": seed, "time_budget": float(self.time_budget)})
        except ConfigError as e:
            where = ", ".join(f"{k}={v}" for k, v in setting.items()) or "the base config"
            raise ConfigError(e.field, f"{str(e).removeprefix(e.field + ': ')} (setting {where})") from None


def _draw(rng: random.Random, name: str, dist: dict[str, list[Any]]) -> Any:
    kind, args = next(iter(dist.items()))
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise sweep_error(name, "choice takes a non-empty list")
        return rng.choice(args)
    if not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, (int, float)) for a in args)
            and args[0] < args[1]):
        raise sweep_error(name, f"{kind} takes [low, high] with low < high")
    lo, hi = args
    if kind == "uniform":
        return rng.uniform(lo, hi)
    if kind == "randint":
        return rng.randint(int(lo), int(hi))
    if lo <= 0:
        raise sweep_error(name, "loguniform needs low > 0")
    return float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.3g}")


def setting_label(setting: dict[str, Any]) -> str:
    """One setting in words, e.g. `lr_g=0.0001, loss=hinge` (the tables' and charts' key)."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()) or "base"

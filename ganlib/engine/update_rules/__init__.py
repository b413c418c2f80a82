"""The update rules: what one training step does for each model family, in one registry.

An update rule owns the models' optimizers and sums its statistics into device tensors;
`epoch_means()` reads them back once per epoch. Nothing here calls `.item()`: a host sync
per step would stall the GPU queue. The registry is keyed by a model's `kind` ("gan", "vae"),
so the trainer never asks which family it trains; a new family is one file and one line.

Speed options (`precision`, `compile`) change how the forward passes run, never what is
trained or saved: the forward passes go through `g_fwd` / `d_fwd` (the modules themselves, or
their torch.compile wrappers), while `G` and `D` stay the plain modules that the optimizers,
the EMA, the sampler and the checkpoints use.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from ganlib.core import distributed
from ganlib.core.registry import Registry
from ganlib.engine.update_rules.common import EMA, compiled, grad_norm, make_optimizer, match_layout  # noqa: F401


class UpdateRule:
    """What the engine needs from a model family."""

    G: nn.Module
    cfg: Any  # a TrainConfig, or anything with the fields the rule reads (the playground's)
    device: torch.device
    stat_names: tuple[str, ...]
    conditional: bool = False

    # ---- the hooks through which a family brings its own batch, grid and state -------------
    def batch(self, data: Any, idx: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The (x, y) that `train_step` takes for the rows `idx` of the run's data
        (`ganlib.data.ImageData`): images (uint8 on the device, converted to float here: see
        `ImageData.batch`) and, for a conditional model, their labels. Translation rules return
        (source, target) instead."""
        return data.batch(idx), (data.labels[idx] if self.conditional else None)

    def grid(self, data: Any, G: nn.Module, fixed_z: torch.Tensor, fixed_labels: Optional[torch.Tensor],
             cols: int) -> tuple[torch.Tensor, int]:
        """The images of the per-epoch grid and its number of columns, drawn by the sampler `G`
        (in eval mode): the fixed-noise samples. Translation rules draw held-out translations."""
        return G(fixed_z, fixed_labels), cols

    def extra_grids(self, data: Any, G: nn.Module) -> dict[str, tuple[torch.Tensor, int]]:
        """More per-epoch grids beside the samples, by the run folder's name for them ("recon":
        a VAE's reconstructions), each (images, columns). None by default."""
        return {}

    def draws(self, local_batch: int) -> int:
        """Rows of noise a step draws: the global batch in a torchrun job, so every rank draws what
        one process would (same RNG stream, any world size) and keeps its slice with `mine`."""
        return local_batch * distributed.world_size()

    def mine(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a tensor drawn at the global batch (`draws`)."""
        W = distributed.world_size()
        return t if W == 1 else t.chunk(W)[distributed.rank()]

    def extra_state(self) -> dict[str, Any]:
        """Tensors beyond models and optimizers that a resume needs (CycleGAN's history pools)."""
        return {}

    def load_extra_state(self, ck: dict[str, Any]) -> None:
        """Restore what `extra_state` saved."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def models(self) -> dict[str, Optional[nn.Module]]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def train_step(self, x: torch.Tensor, y: Optional[torch.Tensor], i: int, progress: float) -> None:
        raise NotImplementedError

    def epoch_means(self) -> dict[str, float]:
        raise NotImplementedError

    def sum_groups(self) -> list[tuple[tuple[str, ...], torch.Tensor, int]]:
        """(stat names, their running sums on the device, steps summed) since `reset()`."""
        raise NotImplementedError

    def read_sums(self) -> dict[str, tuple[float, int]]:
        """Every statistic's running (sum, steps) since `reset()`, in one host sync: what the
        engine's once-a-second stream of running means reads (never per step)."""
        groups = self.sum_groups()
        values = torch.cat([s.float().reshape(-1) for _, s, _ in groups]).tolist()
        out, i = {}, 0
        for names, _, n in groups:
            for name in names:
                out[name] = (values[i], n)
                i += 1
        return out

    def compile(self, mode: str) -> None:
        """Route the training forward passes through torch.compile (`mode` "off" undoes it)."""
        raise NotImplementedError

    def sampler(self) -> nn.Module:
        """The network to draw samples and metrics from (the EMA copy when there is one)."""
        return self.ema.synced() if getattr(self, "ema", None) else self.G

    def begin_step(self) -> None:
        """With CUDA graphs, tell torch.compile's graph trees that a new step starts, so they may
        reuse the previous step's output memory. Their own guess (all backwards run) fails on a
        critic-only step, whose generator pass never gets a backward."""
        if self.cfg.compile == "cuda_graphs":
            torch.compiler.cudagraph_mark_step_begin()

    def autocast(self) -> torch.autocast:
        """bfloat16 autocast for forward passes with precision bf16: matmuls and convolutions
        run in bf16, weights and their gradients stay float32 (autocast casts on the fly)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")


UPDATE_RULES: Registry[type] = Registry("update rule")

# Registration: one import per family file.
# isort: off
from ganlib.engine.update_rules import gan as _gan  # noqa: E402,F401
from ganlib.engine.update_rules import vae as _vae  # noqa: E402,F401
from ganlib.engine.update_rules import pix2pix as _pix2pix  # noqa: E402,F401
from ganlib.engine.update_rules import cyclegan as _cyclegan  # noqa: E402,F401
from ganlib.engine.update_rules import stylegan as _stylegan  # noqa: E402,F401
# isort: on

"""The diffusion update rule: one flow-matching step (ganlib/models/diffusion.py).

Per image it draws the noise z, the time t (uniform in [0, 1]) and whether its label is
dropped (classifier-free guidance's "no label", with probability `label_dropout`), from the
training RNG at the global batch (`draws` / `mine`), so a checkpoint's RNG state resumes the
run exactly and a torchrun job trains what one process would. The loss is the MSE between the
network's velocity at x_t = (1 - t) z + t x and the straight line's velocity x - z.

The sampling settings (`sample_steps`, `guidance`) are read from the current config whenever
the engine asks for the sampler, so a live edit changes the next grid and evaluation.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ganlib.engine.update_rules import UPDATE_RULES
from ganlib.engine.update_rules.common import compiled
from ganlib.engine.update_rules.single_network import SingleNetworkUpdate


class DiffusionUpdate(SingleNetworkUpdate):
    stat_names = ("fm_loss", "grad_norm_g")

    def compile(self, mode: str) -> None:
        self.loss_fn = compiled(self.G.loss, mode)

    def sampler(self) -> nn.Module:
        """The EMA copy (or G) with the config's current sampling settings."""
        G = super().sampler()
        G.sample_steps, G.guidance = self.cfg.sample_steps, self.cfg.guidance
        return G

    def draw(self, x: torch.Tensor, y: Optional[torch.Tensor]):
        """The step's noise, times and labels (dropped ones set to -1, "no label")."""
        B, dev = x.shape[0], self.device
        noise = self.mine(torch.randn((self.draws(B), *x.shape[1:]), device=dev, generator=self.gen)).to(x.dtype)
        t = self.mine(torch.rand(self.draws(B), device=dev, generator=self.gen))
        keep = self.mine(torch.rand(self.draws(B), device=dev, generator=self.gen)) >= self.cfg.label_dropout
        if y is not None:
            y = torch.where(keep, y, torch.full_like(y, -1))
        return noise, t, y

    def train_step(self, x, y, i, progress) -> None:
        self.begin_step()
        noise, t, labels = self.draw(x, y)
        with self.autocast():
            loss = self.loss_fn(x, noise, t, labels)  # float32 even under autocast (FlowMatching.loss)
        self.apply(loss)


UPDATE_RULES.add("diffusion", DiffusionUpdate)

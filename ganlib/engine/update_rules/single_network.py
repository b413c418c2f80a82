"""What the families trained without a discriminator share (the VAE, diffusion): one network G,
its Adam (`lr_g`, `beta1`, `beta2`), its EMA, one device tensor of per-step statistics read
once per epoch, and the step that applies a loss."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from ganlib.engine.update_rules import UpdateRule
from ganlib.engine.update_rules.common import EMA, make_optimizer, step_generator


class SingleNetworkUpdate(UpdateRule):
    """A subclass names its `stat_names` (the last one `grad_norm_g`), `compile`s its loss and
    calls `apply(loss, *stats)` from `train_step`."""

    def __init__(self, cfg: Any, G: nn.Module, D: Optional[nn.Module], num_classes: int, conditional: bool,
                 device: torch.device, generator: Optional[torch.Generator] = None):
        """The registry's signature; there is no discriminator. `generator` draws the rule's
        noise (None: the global training RNG, which checkpoints hold)."""
        self.cfg, self.G, self.device, self.gen = cfg, G, device, generator
        self.num_classes, self.conditional = num_classes, conditional
        self.params = list(G.parameters())
        self.opt_g = make_optimizer(self.params, cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.compile(cfg.compile)
        self.reset()

    def optimizers(self):
        return {"opt_g": self.opt_g}

    def models(self):
        return {"G": self.G, "G_ema": self.ema.model if self.ema else None}

    def reset(self) -> None:
        self.sums = torch.zeros(len(self.stat_names), device=self.device)
        self.n = 0

    def apply(self, loss: torch.Tensor, *stats: torch.Tensor) -> None:
        """One Adam step on `loss`, the EMA after it, and (loss, *stats, G's gradient norm)
        added to the epoch's sums on the device."""
        gn = step_generator(self.opt_g, loss, self.params, [])
        if self.ema:
            self.ema.update()
        with torch.no_grad():
            self.sums += torch.stack([loss.detach(), *(s.detach() for s in stats), gn.to(self.device)]).float()
        self.n += 1

    def sum_groups(self):
        return [(self.stat_names, self.sums, self.n)]

    def epoch_means(self) -> dict[str, float]:
        return dict(zip(self.stat_names, (self.sums / max(1, self.n)).tolist()))

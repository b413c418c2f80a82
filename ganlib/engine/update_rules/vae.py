"""The VAE update rule: the negative ELBO (reconstruction + KL) of one batch."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from ganlib.engine.update_rules import UPDATE_RULES, UpdateRule
from ganlib.engine.update_rules.common import EMA, compiled, grad_norm, make_optimizer


class VAEUpdate(UpdateRule):
    stat_names = ("neg_elbo", "recon", "kl", "grad_norm_g")

    def __init__(self, cfg: Any, G: nn.Module, D: Optional[nn.Module], num_classes: int, conditional: bool,
                 device: torch.device, generator: Optional[torch.Generator] = None):
        """The registry's signature; a VAE has no discriminator and draws its reparameterisation
        noise inside the model."""
        self.cfg, self.G, self.device, self.conditional = cfg, G, device, conditional
        self.params = list(G.parameters())
        self.opt_g = make_optimizer(self.params, cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.compile(cfg.compile)
        self.reset()

    def compile(self, mode: str) -> None:
        self.loss_terms = compiled(self.G.loss_terms, mode)

    def optimizers(self):
        return {"opt_g": self.opt_g}

    def models(self):
        return {"G": self.G, "G_ema": self.ema.model if self.ema else None}

    def reset(self) -> None:
        self.sums = torch.zeros(len(self.stat_names), device=self.device)
        self.n = 0

    def train_step(self, x, y, i, progress) -> None:
        self.begin_step()
        with self.autocast():
            recon, kl = self.loss_terms(x)  # float32 even under autocast (VAEBase.loss_terms)
        loss = recon + kl
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        gn = grad_norm(self.params)
        self.opt_g.step()
        if self.ema:
            self.ema.update()
        with torch.no_grad():
            self.sums += torch.stack([loss.detach(), recon.detach(), kl.detach(), gn.to(self.device)]).float()
        self.n += 1

    def extra_grids(self, data, G) -> dict[str, tuple[torch.Tensor, int]]:
        """The reconstructions of up to 32 fixed real images (fewer on a tiny dataset): rows of
        8 originals, each row followed by their reconstructions."""
        cols = min(8, len(data))
        rows = min(4, len(data) // cols)
        x = data.first(rows * cols)
        shape = (rows, cols, *x.shape[1:])
        pairs = torch.stack([x.reshape(shape), G.reconstruct(x).reshape(shape)], 1)
        return {"recon": (pairs.reshape(-1, *x.shape[1:]), cols)}

    def sum_groups(self):
        return [(self.stat_names, self.sums, self.n)]

    def epoch_means(self) -> dict[str, float]:
        return dict(zip(self.stat_names, (self.sums / max(1, self.n)).tolist()))


UPDATE_RULES.add("vae", VAEUpdate)

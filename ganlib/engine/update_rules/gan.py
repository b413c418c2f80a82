"""The GAN update rule: any loss from the registry, n_critic, weight clipping, the gradient
penalty, R1, EMA of G, one-sided label smoothing, decaying instance noise and DiffAugment."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from ganlib.engine.update_rules import UPDATE_RULES, UpdateRule
from ganlib.engine.update_rules.common import EMA, GeneratorAndCritic, grad_norm, step_generator
from ganlib.losses import LOSSES
from ganlib.losses.diffaugment import diff_augment, policies_of
from ganlib.losses.penalties import gradient_penalty, r1_penalty


class GANUpdate(GeneratorAndCritic, UpdateRule):
    D_STATS = ("d_loss", "d_real", "d_fake", "grad_norm_d", "penalty")
    G_STATS = ("g_loss", "grad_norm_g")
    stat_names = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_g", "grad_norm_d", "penalty")

    def __init__(self, cfg: Any, G: nn.Module, D: Optional[nn.Module], num_classes: int, conditional: bool,
                 device: torch.device, generator: Optional[torch.Generator] = None):
        """`generator` draws the noise, fake labels, instance noise and penalty points; None is
        the global (training) RNG, which a checkpoint captures. The 2-D playground passes its own."""
        self.cfg, self.G, self.D, self.device, self.gen = cfg, G, D, device, generator
        self.num_classes, self.conditional = num_classes, conditional
        self.loss = LOSSES.get(cfg.loss)
        self.make_optimizers(cfg, device)
        self.ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.policies = policies_of(cfg.diffaugment)
        self.use_gp = self.loss.needs_gp or cfg.gradient_penalty
        self.compile(cfg.compile)
        self.reset()

    def models(self):
        return {"G": self.G, "D": self.D, "G_ema": self.ema.model if self.ema else None}

    def reset(self) -> None:
        self.d_sums = torch.zeros(len(self.D_STATS), device=self.device)
        self.g_sums = torch.zeros(len(self.G_STATS), device=self.device)
        self.d_steps = self.g_steps = 0

    def r1_weight(self, i: int) -> float:
        """R1's weight at step `i` (0 = skip it): gamma / 2 every step; a family may apply it lazily."""
        return 0.5 * self.cfg.r1_gamma

    def d_input(self, x: torch.Tensor, progress: float) -> torch.Tensor:
        """What D sees: DiffAugment, then instance noise decaying linearly to 0 over the run."""
        if self.policies:
            x = diff_augment(x, self.policies)
        if self.cfg.instance_noise > 0:
            noise = torch.randn_like(x) if self.gen is None else \
                torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=self.gen)
            x = x + noise * (self.cfg.instance_noise * max(0.0, 1.0 - progress))
        return x

    def train_step(self, x, y, i, progress) -> None:
        """One D update; every n_critic-th batch also one G update. With n_critic 1, G's step
        reuses the D step's fakes (seed 000's order) and saves a generator pass.

        D's outputs are cast to float32 before the losses. The penalties call the plain D, not
        `d_fwd`: their double backward goes through D's backward, which a compiled D cannot
        differentiate again. They do run under bf16 autocast, whose double backward works."""
        self.begin_step()
        cfg, B = self.cfg, x.shape[0]
        z = self.mine(torch.randn(self.draws(B), cfg.latent_dim, device=self.device, generator=self.gen))
        y_fake = self.mine(torch.randint(0, self.num_classes, (self.draws(B),), device=self.device,
                                         generator=self.gen)) if self.conditional else None
        with self.autocast():
            fake = self.g_fwd(z, y_fake)
            real_in, fake_in = self.d_input(x, progress), self.d_input(fake.detach(), progress)
            d_real, d_fake = self.d_fwd(real_in, y).float(), self.d_fwd(fake_in, y_fake).float()
            penalty = torch.zeros((), device=self.device)
            if self.use_gp:
                penalty = penalty + cfg.gp_weight * gradient_penalty(self.D, real_in, fake_in, y, self.gen)
            r1_weight = self.r1_weight(i)
            if r1_weight > 0:
                penalty = penalty + r1_weight * r1_penalty(self.D, real_in, y)
        loss_d = self.loss.d_loss(d_real, d_fake, cfg.label_smoothing)
        self.opt_d.zero_grad(set_to_none=True)
        (loss_d + penalty).backward()
        gn_d = grad_norm(self.d_params)
        self.opt_d.step()
        if self.loss.clip:
            with torch.no_grad():
                torch._foreach_clamp_min_(self.d_params, -cfg.clip_value)
                torch._foreach_clamp_max_(self.d_params, cfg.clip_value)
        with torch.no_grad():
            to_p = torch.sigmoid if self.loss.bce else (lambda t: t)  # probability, or critic score
            self.d_sums += torch.stack([loss_d.detach(), to_p(d_real).mean(), to_p(d_fake).mean(),
                                        gn_d.to(self.device), penalty.detach()]).float()
        self.d_steps += 1

        if (i + 1) % cfg.n_critic:
            return
        for p in self.d_params:  # G's step needs no gradients for D's weights
            p.requires_grad_(False)
        with self.autocast():
            if cfg.n_critic > 1:  # fresh fakes: the ones above trained D n_critic steps ago
                z = self.mine(torch.randn(self.draws(B), cfg.latent_dim, device=self.device, generator=self.gen))
                fake = self.g_fwd(z, y_fake)
            d_out = self.d_fwd(self.d_input(fake, progress), y_fake).float()
        loss_g = self.loss.g_loss(d_out)
        gn_g = step_generator(self.opt_g, loss_g, self.g_params, self.d_params)
        if self.ema:
            self.ema.update()
        with torch.no_grad():
            self.g_sums += torch.stack([loss_g.detach(), gn_g.to(self.device)]).float()
        self.g_steps += 1

    def sum_groups(self):
        return [(self.D_STATS, self.d_sums, self.d_steps), (self.G_STATS, self.g_sums, self.g_steps)]

    def epoch_means(self) -> dict[str, float]:
        d = (self.d_sums / max(1, self.d_steps)).tolist()  # the epoch's one host sync (two tiny reads)
        g = (self.g_sums / max(1, self.g_steps)).tolist()
        means = {**dict(zip(self.D_STATS, d)), **dict(zip(self.G_STATS, g))}
        return {k: means[k] for k in self.stat_names}


UPDATE_RULES.add("gan", GANUpdate)

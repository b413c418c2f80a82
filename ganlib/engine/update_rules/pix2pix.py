"""The pix2pix update rule (Isola et al. 2017): D learns to tell (input, target) pairs from
(input, G(input)) pairs, patch by patch, with BCE (halved, as the original slows D down); G
minimises BCE against "real" plus lambda_l1 (100) times the L1 distance to the target."""
from __future__ import annotations

import torch

from ganlib.engine.update_rules import UPDATE_RULES
from ganlib.engine.update_rules.common import grad_norm, step_generator
from ganlib.engine.update_rules.translation import TranslationRule
from ganlib.losses import LOSSES

BCE = LOSSES.get("nonsaturating")  # -log D(x) - log(1 - D(G(a))) for D, -log D(G(a)) for G


class Pix2PixUpdate(TranslationRule):
    stat_names = ("d_loss", "g_loss", "g_adv", "g_l1", "d_real", "d_fake", "grad_norm_g", "grad_norm_d")

    def train_step(self, x, y, i, progress) -> None:
        """`x` the source images, `y` their targets."""
        self.begin_step()
        self.set_learning_rates(progress)
        a, b = x, y
        with self.autocast():
            fake = self.g_fwd(a)
            d_real = self.d_fwd(torch.cat([a, b], 1)).float()
            d_fake = self.d_fwd(torch.cat([a, fake.detach()], 1)).float()
        loss_d = 0.5 * BCE.d_loss(d_real, d_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        gn_d = grad_norm(self.d_params)
        self.opt_d.step()

        for p in self.d_params:  # G's step needs no gradients for D's weights
            p.requires_grad_(False)
        with self.autocast():
            d_out = self.d_fwd(torch.cat([a, fake], 1)).float()
        g_adv = BCE.g_loss(d_out)
        g_l1 = (fake.float() - b).abs().mean()
        loss_g = g_adv + self.cfg.lambda_l1 * g_l1
        gn_g = step_generator(self.opt_g, loss_g, self.g_params, self.d_params)
        self.add_stats(loss_d, loss_g, g_adv, g_l1, torch.sigmoid(d_real).mean(), torch.sigmoid(d_fake).mean(),
                       gn_g, gn_d)


UPDATE_RULES.add("pix2pix", Pix2PixUpdate)

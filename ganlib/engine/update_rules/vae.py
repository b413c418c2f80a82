"""The VAE update rule: the negative ELBO (reconstruction + KL) of one batch."""
from __future__ import annotations

from ganlib.engine.update_rules import UPDATE_RULES
from ganlib.engine.update_rules.common import compiled
from ganlib.engine.update_rules.single_network import SingleNetworkUpdate


class VAEUpdate(SingleNetworkUpdate):
    """A VAE draws its reparameterisation noise inside the model."""

    stat_names = ("neg_elbo", "recon", "kl", "grad_norm_g")

    def compile(self, mode: str) -> None:
        self.loss_terms = compiled(self.G.loss_terms, mode)

    def train_step(self, x, y, i, progress) -> None:
        self.begin_step()
        with self.autocast():
            recon, kl = self.loss_terms(x)  # float32 even under autocast (VAEBase.loss_terms)
        self.apply(recon + kl, recon, kl)


UPDATE_RULES.add("vae", VAEUpdate)

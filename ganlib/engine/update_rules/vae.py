"""The VAE update rule: the negative ELBO (reconstruction + KL) of one batch."""
from __future__ import annotations

import torch

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

    def extra_grids(self, data, G) -> dict[str, tuple[torch.Tensor, int]]:
        """The reconstructions of up to 32 fixed real images (fewer on a tiny dataset): rows of
        8 originals, each row followed by their reconstructions."""
        cols = min(8, len(data))
        rows = min(4, len(data) // cols)
        x = data.first(rows * cols)
        shape = (rows, cols, *x.shape[1:])
        pairs = torch.stack([x.reshape(shape), G.reconstruct(x).reshape(shape)], 1)
        return {"recon": (pairs.reshape(-1, *x.shape[1:]), cols)}


UPDATE_RULES.add("vae", VAEUpdate)

"""Variational autoencoders, trained in the same engine and compared with the GANs by FID.

- `mlp`: seed 000's VAE, 784 -> 400 -> (mu, logvar) -> 400 -> 784, BCE + KL. Seed 000 used a
  20-d latent: set latent_dim to 20 to reproduce it.
- `conv`: a convolutional VAE for colour data (strided convs down, transposed convs up).

The generator convention holds: `vae(z, labels)` decodes to [-1, 1]. Training calls
`reconstruct(x)` and `loss_terms(x)`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, ModelSpec
from ganlib.models.layers import start_size


class VAEBase(nn.Module):
    def encode(self, x):  # -> mu, logvar
        raise NotImplementedError

    def decode_probs(self, z):  # -> pixel probabilities in [0, 1]
        raise NotImplementedError

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode_probs(z) * 2 - 1

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction of x (posterior mean), in [-1, 1]: for reconstruction grids."""
        mu, _ = self.encode(x)
        return self.decode_probs(mu) * 2 - 1

    def loss_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image reconstruction BCE (summed over pixels, as seed 000) and KL, batch means.
        The negative ELBO is their sum. Sampling and both terms are float32 even under bf16
        autocast: sums over thousands of pixels lose too much in bfloat16."""
        target = (x + 1) / 2
        mu, logvar = (t.float() for t in self.encode(x))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z).float()
        recon = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        return recon, kl

    def decode_logits(self, z):
        raise NotImplementedError


class MLPVAE(VAEBase):
    def __init__(self, latent_dim: int, img_shape):
        super().__init__()
        self.img_shape = img_shape
        d = math.prod(img_shape)
        self.fc1, self.fc21, self.fc22 = nn.Linear(d, 400), nn.Linear(400, latent_dim), nn.Linear(400, latent_dim)
        self.fc3, self.fc4 = nn.Linear(latent_dim, 400), nn.Linear(400, d)

    def encode(self, x):
        h = torch.relu(self.fc1(x.flatten(1)))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(torch.relu(self.fc3(z))).view(z.shape[0], *self.img_shape)

    def decode_probs(self, z):
        return torch.sigmoid(self.decode_logits(z))


class ConvVAE(VAEBase):
    def __init__(self, latent_dim: int, img_shape, nf: int = 32):
        super().__init__()
        c, size, _ = img_shape
        s0, levels = start_size(size)
        enc, ch = [], c
        for i in range(levels):
            enc += [nn.Conv2d(ch, nf * 2 ** i, 4, 2, 1), nn.LeakyReLU(0.2)]
            ch = nf * 2 ** i
        self.enc = nn.Sequential(*enc, nn.Flatten())
        self.top = (ch, s0)
        self.mu, self.logvar = nn.Linear(ch * s0 * s0, latent_dim), nn.Linear(ch * s0 * s0, latent_dim)
        self.fc = nn.Linear(latent_dim, ch * s0 * s0)
        dec = []
        for i in reversed(range(levels)):
            out = c if i == 0 else nf * 2 ** (i - 1)
            dec += [nn.ConvTranspose2d(ch, out, 4, 2, 1)] + ([nn.ReLU()] if i else [])
            ch = out
        self.dec = nn.Sequential(*dec)

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z):
        ch, s0 = self.top
        return self.dec(torch.relu(self.fc(z)).view(z.shape[0], ch, s0, s0))

    def decode_probs(self, z):
        return torch.sigmoid(self.decode_logits(z))


def build(cfg, img_shape, num_classes):
    variant = SPEC.resolve_variant(cfg) if cfg.variant != "default" else ("mlp" if cfg.channels == 1 else "conv")
    vae = MLPVAE(cfg.latent_dim, img_shape) if variant == "mlp" else ConvVAE(cfg.latent_dim, img_shape)
    return vae, None


def check(cfg) -> None:
    variant = cfg.variant if cfg.variant != "default" else ("mlp" if cfg.channels == 1 else "conv")
    if variant == "conv" and cfg.image_size not in (28, 32, 64):
        raise ConfigError("image_size", f"the conv VAE is built for 28, 32 or 64 pixels, got {cfg.image_size}")


SPEC = ModelSpec(build, conditional=False, default_dropout=0.0, kind="vae", variants=("mlp", "conv"),
                 description="VAE: seed 000's MLP VAE (latent_dim 20 reproduces it) or a conv VAE; "
                             "default mlp for grayscale, conv for colour", check=check, adversarial=False)
MODELS.add("vae", SPEC)

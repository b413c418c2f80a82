"""Seed 000's MLP GAN. G: z -> 256 -> 512 -> 1024 -> pixels, ReLU, Dropout 0.3, Tanh.
D: pixels -> 512 -> 256 -> 1, LeakyReLU 0.2, Dropout 0.3, returning a logit (the seed's
Sigmoid moves into BCE-with-logits, which is the numerically stable form of the same loss)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ganlib.models import MODELS, ModelSpec


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, img_shape: tuple[int, int, int], dropout: float = 0.3):
        super().__init__()
        self.img_shape = img_shape
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(256, 512), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(512, 1024), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(1024, math.prod(img_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.img_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, img_shape: tuple[int, int, int], dropout: float = 0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(math.prod(img_shape), 512), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(256, 1),
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


def build(cfg, img_shape, num_classes):
    p = SPEC.dropout(cfg)
    return MLPGenerator(cfg.latent_dim, img_shape, p), MLPDiscriminator(img_shape, p)


SPEC = ModelSpec(build, conditional=False, default_dropout=0.3,
                 description="Seed 000: fully connected G (256-512-1024) and D (512-256)")
MODELS.add("mlp_gan", SPEC)

"""Seed 004's conditional MLP GAN: a 16-d label embedding is concatenated to the noise
(G: 256 -> 512 -> 1024 -> pixels) and to the flattened image (D: 1024 -> 512 -> 256 -> 1),
LeakyReLU (PyTorch's default slope, as the seed), Dropout 0.2."""
from __future__ import annotations

import math

import torch
from torch import nn

from ganlib.models import MODELS, ModelSpec

EMBED_DIM = 16


class CGenerator(nn.Module):
    def __init__(self, latent_dim: int, img_shape, num_classes: int = 10, dropout: float = 0.2):
        super().__init__()
        self.img_shape = img_shape
        self.embed = nn.Embedding(num_classes, EMBED_DIM)
        self.net = nn.Sequential(
            nn.Linear(latent_dim + EMBED_DIM, 256), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(256, 512), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(512, 1024), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(1024, math.prod(img_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.forward_embedded(z, self.embed(labels))

    def forward_embedded(self, z: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Takes the label embedding itself, so a latent walk can blend two classes."""
        return self.net(torch.cat([z, emb], dim=1)).view(z.shape[0], *self.img_shape)


class CDiscriminator(nn.Module):
    def __init__(self, img_shape, num_classes: int = 10, dropout: float = 0.2):
        super().__init__()
        self.embed = nn.Embedding(num_classes, EMBED_DIM)
        self.net = nn.Sequential(
            nn.Linear(math.prod(img_shape) + EMBED_DIM, 1024), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(1024, 512), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(512, 256), nn.LeakyReLU(), nn.Dropout(dropout),
            nn.Linear(256, 1),
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.flatten(1), self.embed(labels)], dim=1)).squeeze(1)


def build(cfg, img_shape, num_classes):
    p = SPEC.dropout(cfg)
    return CGenerator(cfg.latent_dim, img_shape, num_classes, p), CDiscriminator(img_shape, num_classes, p)


SPEC = ModelSpec(build, conditional=True, default_dropout=0.2,
                 description="Seed 004: conditional MLP GAN with a 16-d label embedding")
MODELS.add("cgan", SPEC)

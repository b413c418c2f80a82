"""Class-conditional DCGAN. G embeds the label and concatenates it to the noise (as seed 004's
cgan, but convolutional); D is a projection discriminator (Miyato & Koyama 2018): the logit is
a linear score of D's pooled features plus the inner product of those features with a learned
class embedding, which conditions D far more strongly than concatenating the label."""
from __future__ import annotations

import torch
from torch import nn

from ganlib.models import MODELS, ModelSpec
from ganlib.models.dcgan import DCFeatures, DCGenerator, check
from ganlib.models.layers import MinibatchStd, dcgan_init

EMBED_DIM = 32


class CDCGenerator(nn.Module):
    def __init__(self, latent_dim: int, img_shape, num_classes: int):
        super().__init__()
        self.embed = nn.Embedding(num_classes, EMBED_DIM)
        self.body = DCGenerator(latent_dim + EMBED_DIM, img_shape)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.forward_embedded(z, self.embed(labels))

    def forward_embedded(self, z: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, emb], dim=1))


class ProjectionDiscriminator(nn.Module):
    def __init__(self, img_shape, num_classes: int, norm: str = "batch", minibatch_std: bool = False):
        super().__init__()
        self.trunk = DCFeatures(img_shape, norm=norm)
        self.mbstd = MinibatchStd() if minibatch_std else nn.Identity()
        ch = self.trunk.channels + (1 if minibatch_std else 0)
        self.act = nn.LeakyReLU(0.2)
        self.linear = nn.Linear(ch, 1)
        self.embed = nn.Embedding(num_classes, ch)
        dcgan_init(self)
        # Like the linear head, not nn.Embedding's N(0, 1): the projection is an inner product
        # with features summed over all positions, and unit-scale class vectors made the first
        # logits hundreds large (BCE losses near 50, D saturated, G without a gradient).
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.act(self.mbstd(self.trunk(x))).sum(dim=(2, 3))  # (N, C) pooled features
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(1)


def build(cfg, img_shape, num_classes):
    return (CDCGenerator(cfg.latent_dim, img_shape, num_classes),
            ProjectionDiscriminator(img_shape, num_classes, cfg.d_norm, cfg.minibatch_std))


MODELS.add("cdcgan", ModelSpec(build, conditional=True, default_dropout=0.0,
                               description="Class-conditional DCGAN with a projection discriminator",
                               convolutional=True, check=check))

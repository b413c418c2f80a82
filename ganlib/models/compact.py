"""`cdcgan_compact`: the compact conditional conv GAN behind the recommended default.

Found by measurement (docs/PERF.md, "Default recipe search"): on a 2-core CPU it reaches
recognisable digits of every class several times sooner than seed 004's MLP cGAN, because a
small convolutional pair learns the strokes of a class from far fewer images than an MLP, and
each of its steps is cheap. G: the label's 16-d embedding beside z, a linear layer to a
2c x s x s map (s = size / 4), two transposed convolutions with BatchNorm and ReLU, Tanh.
D: two strided convolutions with LeakyReLU 0.2 (the normalisation `d_norm` asks for), a hidden
linear layer, and a projection head (Miyato & Koyama 2018): an unconditional score plus the
inner product of the features with a learned class embedding. PyTorch's default init.
"""
from __future__ import annotations

import torch
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, ModelSpec
from ganlib.models.layers import norm2d

WIDTH = 32  # c: D's first conv channels; G's last hidden map
EMBED_DIM = 16


class CompactGenerator(nn.Module):
    def __init__(self, latent_dim: int, img_shape, num_classes: int, width: int = WIDTH):
        super().__init__()
        c, size, _ = img_shape
        self.s, self.w = size // 4, width
        self.embed = nn.Embedding(num_classes, EMBED_DIM)
        self.fc = nn.Sequential(nn.Linear(latent_dim + EMBED_DIM, 2 * width * self.s ** 2),
                                nn.BatchNorm1d(2 * width * self.s ** 2), nn.ReLU())
        self.net = nn.Sequential(nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
                                 nn.ConvTranspose2d(width, c, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.forward_embedded(z, self.embed(labels))

    def forward_embedded(self, z: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Takes the label embedding itself, so a latent walk can blend two classes."""
        h = self.fc(torch.cat([z, emb], dim=1)).view(z.shape[0], 2 * self.w, self.s, self.s)
        return self.net(h)


class CompactProjectionDiscriminator(nn.Module):
    def __init__(self, img_shape, num_classes: int, norm: str = "none", width: int = WIDTH):
        super().__init__()
        c, size, _ = img_shape
        s = size // 4
        self.net = nn.Sequential(nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, 2 * width, 4, 2, 1), norm2d(norm, 2 * width), nn.LeakyReLU(0.2),
                                 nn.Flatten(), nn.Linear(2 * width * s * s, 4 * width), nn.LeakyReLU(0.2))
        self.linear = nn.Linear(4 * width, 1)
        self.embed = nn.Embedding(num_classes, 4 * width)
        # Like the linear head, not nn.Embedding's N(0, 1): unit-scale class vectors made the
        # first logits large (see cdcgan's projection discriminator).
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        return self.linear(h).squeeze(1) + (self.embed(labels) * h).sum(1)


def build(cfg, img_shape, num_classes):
    return (CompactGenerator(cfg.latent_dim, img_shape, num_classes),
            CompactProjectionDiscriminator(img_shape, num_classes, cfg.d_norm))


def check(cfg) -> None:
    if cfg.image_size % 4 or cfg.image_size < 8:
        raise ConfigError("image_size", f"{cfg.model} halves the image twice: use a multiple of 4 (28, 32, 64), "
                                        f"got {cfg.image_size}")


SMALL_D = "cdcgan_compact's small discriminator has no {}; use cdcgan or dcgan for it"
MODELS.add("cdcgan_compact", ModelSpec(build, conditional=True, default_dropout=0.0, convolutional=True, check=check,
                                       unsupported={"minibatch_std": SMALL_D.format("minibatch std"),
                                                    "patch_gan": SMALL_D.format("patch gan")},
                                       description="Compact class-conditional conv GAN (projection D): the fast "
                                                   "default, digits of every class in well under a minute on a CPU"))

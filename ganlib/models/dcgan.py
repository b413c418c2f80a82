"""Convolutional GANs at 28x28, 32x32 and 64x64, in two variants.

- `radford` (the default): the standard DCGAN (Radford et al. 2016). G grows the image with
  transposed convolutions, BatchNorm and ReLU; D halves it with strided convolutions and
  LeakyReLU 0.2. Weights start from N(0, 0.02).
- `seed001`: seed 001's CIFAR-10 networks. G: linear to 128 x (size/4)^2, then two
  upsample + 3x3 conv blocks with BatchNorm and ReLU, a 3x3 conv to the image and Tanh.
  D: 3x3 stride-2 convs 32-64-128 and a stride-1 conv to 256, BatchNorm, LeakyReLU, Dropout
  0.25, then a linear layer to one logit (the seed's Sigmoid moves into the loss).

D returns (N,) logits, or (N, P) patch logits with `patch_gan` (seed 003's PatchGAN: each
output judges one receptive field, and the loss averages them).
"""
from __future__ import annotations

import torch
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, ModelSpec
from ganlib.models.layers import MinibatchStd, dcgan_init, norm2d, start_size

NGF = NDF = 64


# ---- Radford DCGAN ----------------------------------------------------------------------
class DCGenerator(nn.Module):
    def __init__(self, in_dim: int, img_shape: tuple[int, int, int], ngf: int = NGF):
        super().__init__()
        c, size, _ = img_shape
        s0, levels = start_size(size)
        self.img_shape = img_shape
        ch = ngf * 2 ** (levels - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, ch, s0, 1, 0, bias=False), nn.BatchNorm2d(ch),
                                   nn.ReLU(True)]
        for _ in range(levels - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, c, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCFeatures(nn.Module):
    """D's trunk down to the smallest map (ndf * 2^(levels-1) channels at s0 x s0)."""

    def __init__(self, img_shape, ndf: int = NDF, norm: str = "batch"):
        super().__init__()
        c, size, _ = img_shape
        self.s0, levels = start_size(size)
        layers: list[nn.Module] = [nn.Conv2d(c, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for _ in range(levels - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm != "batch"), norm2d(norm, ch * 2),
                       nn.LeakyReLU(0.2, True)]
            ch *= 2
        self.net = nn.Sequential(*layers)
        self.channels = ch

    def forward(self, x):
        return self.net(x)


class DCDiscriminator(nn.Module):
    def __init__(self, img_shape, ndf: int = NDF, norm: str = "batch", minibatch_std: bool = False,
                 patch: bool = False):
        super().__init__()
        self.trunk = DCFeatures(img_shape, ndf, norm)
        ch, s0 = self.trunk.channels, self.trunk.s0
        self.mbstd = MinibatchStd() if minibatch_std else nn.Identity()
        ch_in = ch + (1 if minibatch_std else 0)
        # patch: one logit per position of the s0 x s0 map; else one conv over the whole map
        self.head = nn.Conv2d(ch_in, 1, 3, 1, 1) if patch else nn.Conv2d(ch_in, 1, s0, 1, 0)
        dcgan_init(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.head(self.mbstd(self.trunk(x))).flatten(1)
        return out.squeeze(1) if out.shape[1] == 1 else out


# ---- seed 001 ---------------------------------------------------------------------------
class Seed001Generator(nn.Module):
    def __init__(self, in_dim: int, img_shape):
        super().__init__()
        c, size, _ = img_shape
        s = size // 4
        self.net = nn.Sequential(
            nn.Linear(in_dim, 128 * s * s), nn.ReLU(), nn.Unflatten(1, (128, s, s)),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128, momentum=0.22),
            nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64, momentum=0.22), nn.ReLU(),
            nn.Conv2d(64, c, 3, padding=1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class Seed001Discriminator(nn.Module):
    def __init__(self, img_shape, norm: str = "batch", dropout: float = 0.25, minibatch_std: bool = False,
                 patch: bool = False):
        super().__init__()
        c = img_shape[0]
        self.trunk = nn.Sequential(
            nn.Conv2d(c, 32, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ZeroPad2d((0, 1, 0, 1)), norm2d(norm, 64, 0.18), nn.LeakyReLU(0.25),
            nn.Dropout(dropout),
            nn.Conv2d(64, 128, 3, 2, 1), norm2d(norm, 128, 0.18), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Conv2d(128, 256, 3, 1, 1), norm2d(norm, 256, 0.2), nn.LeakyReLU(0.25), nn.Dropout(dropout),
        )
        # Keras-style momentum 0.82 is PyTorch momentum 0.18: the seed passed 0.82 to PyTorch,
        # which makes running statistics follow the last batch; we keep the seed's intent.
        self.mbstd = MinibatchStd() if minibatch_std else nn.Identity()
        ch = 256 + (1 if minibatch_std else 0)
        if patch:
            self.head = nn.Sequential(nn.Conv2d(ch, 1, 3, 1, 1), nn.Flatten())
        else:
            self.head = nn.Sequential(nn.Flatten(), nn.LazyLinear(1))
        self.head(self.mbstd(self.trunk(torch.zeros(2, *img_shape))))  # materialise the lazy layer

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.head(self.mbstd(self.trunk(x)))
        return out.squeeze(1) if out.shape[1] == 1 else out


def build(cfg, img_shape, num_classes):
    if SPEC.resolve_variant(cfg) == "seed001":
        return (Seed001Generator(cfg.latent_dim, img_shape),
                Seed001Discriminator(img_shape, cfg.d_norm, SPEC.dropout(cfg), cfg.minibatch_std, cfg.patch_gan))
    return (DCGenerator(cfg.latent_dim, img_shape),
            DCDiscriminator(img_shape, norm=cfg.d_norm, minibatch_std=cfg.minibatch_std, patch=cfg.patch_gan))


def check(cfg) -> None:
    if cfg.image_size not in (28, 32, 64):
        raise ConfigError("image_size", f"{cfg.model} is built for 28, 32 or 64 pixels, got {cfg.image_size}")


SPEC = ModelSpec(build, conditional=False, default_dropout=0.25,
                 description="Conv GAN: standard DCGAN (radford) or seed 001's CIFAR-10 nets (seed001)",
                 variants=("radford", "seed001"), convolutional=True, check=check)
MODELS.add("dcgan", SPEC)

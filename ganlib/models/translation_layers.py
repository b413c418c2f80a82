"""The networks the image-to-image models share: pix2pix's U-Net generator, CycleGAN's ResNet
generator and the PatchGAN discriminator, sized for small images (28 px digits) up to 256 px.

A translator is called `G(x, labels)` like every generator, with the source image in place of
the noise (labels are ignored); its noise is dropout (pix2pix: "no explicit noise", seed 003).
Normalisation is InstanceNorm without running statistics, so eval mode differs from training
only by dropout being off. Weights start from N(0, 0.02), as in the original code.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ganlib.core.errors import ConfigError


def base_width(size: int) -> int:
    """Channels at full resolution, for G and D alike: the original's 64 above 64 px; 16 for
    digits (28-32 px), where 32 trains 2.5x fewer images a second on a CPU (docs/PERF.md)."""
    return 16 if size <= 32 else 32 if size <= 64 else 64


def check_translation(cfg) -> None:
    """What both translation models' architecture refuses: images too small for the PatchGAN.
    (The GAN options and an EMA do not apply to them: `store.config_rules` refuses those.)"""
    if cfg.image_size < 16:
        raise ConfigError("image_size", f"{cfg.model}'s PatchGAN needs images of at least 16 px, got {cfg.image_size}")


def unet_depth(size: int, max_depth: int = 5) -> int:
    """How many times the U-Net halves the image: while the size is even and stays >= 4."""
    depth = 0
    while depth < max_depth and size % 2 == 0 and size // 2 >= 4:
        size //= 2
        depth += 1
    return depth


def init_weights(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _block(conv: nn.Module, ch: int, act: nn.Module, dropout: float = 0.0) -> nn.Sequential:
    layers = [conv, nn.InstanceNorm2d(ch), act]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class UNetGenerator(nn.Module):
    """Encoder-decoder with a skip connection at every resolution (Ronneberger et al.; pix2pix's
    G): the skips carry the input's layout straight to the output, the bottleneck its content.
    Dropout (p = `dropout`) in the innermost three decoder blocks, as in pix2pix."""

    def __init__(self, c_in: int, c_out: int, size: int, ngf: Optional[int] = None, dropout: float = 0.5):
        super().__init__()
        ngf = ngf or base_width(size)
        depth = unet_depth(size)
        chans = [min(ngf * 2 ** k, ngf * 8) for k in range(depth + 1)]  # at full size, 1/2, 1/4, ...
        self.stem = nn.Sequential(nn.Conv2d(c_in, ngf, 3, 1, 1), nn.LeakyReLU(0.2, True))
        self.downs = nn.ModuleList(_block(nn.Conv2d(chans[k], chans[k + 1], 4, 2, 1), chans[k + 1],
                                          nn.LeakyReLU(0.2, True)) for k in range(depth))
        c = chans[-1]
        self.bottleneck = nn.Sequential(_block(nn.Conv2d(c, c, 3, 1, 1), c, nn.ReLU(True), dropout),
                                        _block(nn.Conv2d(c, c, 3, 1, 1), c, nn.ReLU(True)))
        ups = []
        for j, k in enumerate(reversed(range(depth))):  # from the innermost level out
            ups.append(_block(nn.ConvTranspose2d(chans[k + 1] * 2, chans[k], 4, 2, 1), chans[k], nn.ReLU(True),
                              dropout if j < 2 else 0.0))
        self.ups = nn.ModuleList(ups)
        self.head = nn.Sequential(nn.Conv2d(ngf * 2, c_out, 3, 1, 1), nn.Tanh())
        init_weights(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        skips = [self.stem(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = self.bottleneck(skips[-1])
        for up, skip in zip(self.ups, reversed(skips[1:])):
            h = up(torch.cat([h, skip], 1))
        return self.head(torch.cat([h, skips[0]], 1))


class ResBlock(nn.Module):
    def __init__(self, ch: int, dropout: float = 0.0):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class ResNetGenerator(nn.Module):
    """CycleGAN's generator (Johnson et al.): c7s1-ngf, two stride-2 convs, residual blocks at
    1/4 size, two transposed convs back, c7s1 to the image and Tanh (one halving for sizes that
    are not a multiple of 4)."""

    def __init__(self, c_in: int, c_out: int, size: int, ngf: Optional[int] = None, n_blocks: int = 6,
                 dropout: float = 0.0):
        super().__init__()
        ngf = ngf or base_width(size)
        downs = 2 if size % 4 == 0 else 1
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(c_in, ngf, 7), nn.InstanceNorm2d(ngf),
                                   nn.ReLU(True)]
        ch = ngf
        for _ in range(downs):
            layers += [nn.Conv2d(ch, ch * 2, 3, 2, 1), nn.InstanceNorm2d(ch * 2), nn.ReLU(True)]
            ch *= 2
        layers += [ResBlock(ch, dropout) for _ in range(n_blocks)]
        for _ in range(downs):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ch // 2),
                       nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, c_out, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x)


def patch_layers(size: int) -> int:
    """PatchGAN depth for an image size: 1 up to 32 px (16 px patches), 2 up to 64 (34 px), else
    3 (pix2pix's 70 x 70 PatchGAN)."""
    return 1 if size <= 32 else 2 if size <= 64 else 3


def receptive_field(n_layers: int) -> int:
    """Pixels each patch logit sees: n_layers 4x4 stride-2 convs, then two 4x4 stride-1 convs."""
    r = 1
    for stride in [1, 1] + [2] * n_layers:  # walked back from the output
        r = (r - 1) * stride + 4
    return r


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN: a fully convolutional D whose every output logit judges one
    `receptive_field(n_layers)`-pixel patch of its input; returns (N, P) patch logits."""

    def __init__(self, c_in: int, n_layers: int, ndf: int = 64):
        super().__init__()
        self.receptive_field = receptive_field(n_layers)
        layers: list[nn.Module] = [nn.Conv2d(c_in, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for _ in range(n_layers - 1):
            layers += [_block(nn.Conv2d(ch, min(ch * 2, ndf * 8), 4, 2, 1), min(ch * 2, ndf * 8),
                              nn.LeakyReLU(0.2, True))]
            ch = min(ch * 2, ndf * 8)
        out = min(ch * 2, ndf * 8)
        layers += [_block(nn.Conv2d(ch, out, 4, 1, 1), out, nn.LeakyReLU(0.2, True)), nn.Conv2d(out, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).flatten(1)

"""`stylegan`: seed 003's StyleGAN parts, small enough for 28-64 px on a CPU (Karras et al. 2019).

Each part is a config field, so its effect can be seen by switching it off:
- `mapping_layers`: the mapping network z -> w (an MLP; 0 = w is the normalised z);
- `adain`: a learned constant input and AdaIN after every convolution, scale and bias per
  channel from w after instance normalisation (seed 003's formula, `adain` below); off, w enters
  once as the first layer's input and the layers only instance-normalise (the classic generator);
- `noise_inputs`: per-layer noise images with learned per-channel scales;
- `style_mixing`: the probability that a training sample takes its styles from two w's;
- `progressive`, `grow_until`: progressive growing with the fade-in alpha, in G and D.

Growing without changing shapes: G always returns the full image size (its current stage's
output upsampled by nearest neighbour) and D always takes it (average-pooled down to the
stage's size), so the engine, the grids and the metrics never see a small image. The stage and
alpha are set from the run's progress by the update rule (`update_rules/stylegan.py`) and kept
in a buffer, so a checkpoint samples at the stage it was trained at. Output: tanh, in [-1, 1].
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, ModelSpec

NARROWEST, WIDEST = 8, 32  # channels at the full size; doubling per level down, capped
MAPPING_LR_MUL = 0.01  # StyleGAN's slower mapping network (equalised learning rate)
W_AVG_BETA = 0.995  # the running mean of w that truncation pulls towards
EVAL_NOISE_SEED = 20_19  # eval-mode noise: repeatable, and never drawn from the global RNG
EPS = 1e-5


def stage_sizes(image_size: int) -> list[int]:
    """The sizes G grows through: halve while even and above 7 (28 -> 7, 14, 28; 32 -> 4 ... 32)."""
    sizes = [image_size]
    while sizes[0] > 7 and sizes[0] % 2 == 0:
        sizes.insert(0, sizes[0] // 2)
    return sizes


def widths(n: int) -> list[int]:
    """Channels per level, coarsest first: NARROWEST at the full size, doubled per level down."""
    return [min(WIDEST, NARROWEST * 2 ** (n - 1 - k)) for k in range(n)]


def adain(x: torch.Tensor, ys: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    """Seed 003: AdaIN(x_i, y) = y_s,i (x_i - mu(x_i)) / sigma(x_i) + y_b,i, per sample and channel."""
    mu = x.mean((2, 3), keepdim=True)
    sigma = (x.var((2, 3), keepdim=True, unbiased=False) + EPS).sqrt()
    return ys[:, :, None, None] * (x - mu) / sigma + yb[:, :, None, None]


def growth_at(progress: float, n_stages: int, progressive: bool, grow_until: float) -> tuple[int, float]:
    """(stage, alpha) at this point of the run: the stages share [0, grow_until] equally and each
    new one fades in over its first half (alpha 0 -> 1); then the full size. A pure function of
    progress, so a resume continues the schedule exactly, also mid-stage."""
    if not progressive or n_stages == 1 or progress >= grow_until:
        return n_stages - 1, 1.0
    t = max(0.0, progress) / grow_until * n_stages
    stage = min(n_stages - 1, int(t))
    return stage, (1.0 if stage == 0 else min(1.0, 2.0 * (t - stage)))


class Growing(nn.Module):
    """The stage and fade-in alpha as python numbers for the forward pass (no host sync) and as a
    buffer for the checkpoint, restored by a load hook."""

    def __init__(self, n_stages: int):
        super().__init__()
        self.n_stages, self.stage, self.alpha = n_stages, n_stages - 1, 1.0
        self.register_buffer("growth", torch.tensor([n_stages - 1, 1.0]))
        self.register_load_state_dict_post_hook(lambda m, _keys: m._read_growth())

    def _read_growth(self) -> None:
        stage, alpha = self.growth.tolist()
        self.stage, self.alpha = int(stage), float(alpha)

    def set_growth(self, stage: int, alpha: float) -> None:
        if (stage, alpha) != (self.stage, self.alpha):
            self.stage, self.alpha = int(stage), float(alpha)
            self.growth.copy_(torch.tensor([float(stage), alpha]))


class MinibatchStd(nn.Module):
    """The batch's mean feature std as one more channel (ProGAN), with an epsilon inside the root:
    a feature equal across the batch (a digit's empty corner) has std 0, whose gradient is
    infinite, and R1's double backward turned it into NaN."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = (x.float().var(dim=0, unbiased=False) + 1e-8).sqrt().mean().to(x.dtype)
        return torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


class EqualLinear(nn.Module):
    """A linear layer with StyleGAN's equalised learning rate: weights stored N(0, 1/lr_mul) and
    scaled at run time, so Adam moves this layer lr_mul times as fast as the others."""

    def __init__(self, cin: int, cout: int, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.lr_mul = lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [EqualLinear(z_dim, z_dim, MAPPING_LR_MUL), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8))  # pixel norm first


class StyleLayer(nn.Module):
    """(upsample), conv 3x3, + per-channel-scaled noise, LeakyReLU, AdaIN from w (or plain
    instance norm when AdaIN is off)."""

    def __init__(self, cin: int, cout: int, w_dim: int, up: bool, conv: bool, use_noise: bool, use_adain: bool):
        super().__init__()
        self.up, self.use_noise, self.use_adain = up, use_noise, use_adain
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1) if conv else None
        self.noise_strength = nn.Parameter(torch.zeros(cout))
        self.style = nn.Linear(w_dim, 2 * cout) if use_adain else None
        if self.style is not None:  # start as the identity: scale 1, bias 0
            nn.init.zeros_(self.style.bias[cout:])
            nn.init.ones_(self.style.bias[:cout])

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.conv is not None:
            x = self.conv(x)
        if self.use_noise:
            x = torch.addcmul(x, self.noise_strength[None, :, None, None], noise)
        x = F.instance_norm(F.leaky_relu(x, 0.2), eps=EPS)  # = adain's normalisation, in one fused kernel
        if self.style is None:
            return x
        ys, yb = self.style(w)[:, :, None, None].chunk(2, dim=1)
        return torch.addcmul(yb, ys, x)


class StyleGenerator(Growing):
    """G(z, labels, psi=1, noise=None): mapping, truncation in W, then the synthesis network.
    `synthesis(ws, noise)` takes one w per layer, which is what style mixing swaps."""

    def __init__(self, latent_dim: int, img_shape, mapping_layers: int, use_adain: bool, use_noise: bool):
        c, size, _ = img_shape
        self.sizes = stage_sizes(size)
        super().__init__(len(self.sizes))
        ch = widths(len(self.sizes))
        self.size, self.w_dim, self.use_adain = size, latent_dim, use_adain
        self.mixing_prob = 0.0  # set by the update rule from the config (a live field)
        self.mapping = MappingNetwork(latent_dim, mapping_layers)
        self.register_buffer("w_avg", torch.zeros(latent_dim))
        s0 = self.sizes[0]
        if use_adain:
            self.const = nn.Parameter(torch.randn(1, ch[0], s0, s0))
        else:
            self.input = nn.Linear(latent_dim, ch[0] * s0 * s0)
        layers = []
        for k in range(len(self.sizes)):
            cin = ch[max(0, k - 1)]
            layers += [StyleLayer(cin, ch[k], latent_dim, up=k > 0, conv=k > 0, use_noise=use_noise,
                                  use_adain=use_adain),
                       StyleLayer(ch[k], ch[k], latent_dim, up=False, conv=True, use_noise=use_noise,
                                  use_adain=use_adain)]
        self.layers = nn.ModuleList(layers)
        self.to_rgb = nn.ModuleList(nn.Conv2d(w, c, 1) for w in ch)
        self.num_ws = len(layers)

    def noise_shapes(self, n: int) -> list[tuple[int, int, int, int]]:
        """One (n, 1, s, s) noise image per layer, coarsest first."""
        return [(n, 1, s, s) for s in self.sizes for _ in range(2)]

    def _noise(self, n: int, given: Optional[Sequence[Optional[torch.Tensor]]], device) -> list[torch.Tensor]:
        """The given noise where there is some; else fresh draws: from the training RNG in
        training, from a fixed-seed generator of its own in eval mode (repeatable samples, and a
        dashboard never shifts the RNG of a job training in the same process)."""
        gen = None if self.training else torch.Generator(device=device).manual_seed(EVAL_NOISE_SEED)
        out = []
        for i, shape in enumerate(self.noise_shapes(n)):
            t = given[i] if given is not None and i < len(given) else None
            out.append(t.to(device) if t is not None else torch.randn(shape, device=device, generator=gen))
        return out

    def truncate(self, w: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick in W: w_avg + psi (w - w_avg)."""
        return w if psi == 1.0 else self.w_avg.lerp(w, psi)

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None, psi: float = 1.0,
                noise: Optional[Sequence[Optional[torch.Tensor]]] = None) -> torch.Tensor:
        w = self.mapping(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0), 1.0 - W_AVG_BETA)
        ws = self.truncate(w, psi)[:, None].expand(-1, self.num_ws, -1)
        if self.training and self.mixing_prob > 0 and self.use_adain:
            ws = self.mix(ws, self.truncate(self.mapping(torch.randn_like(z)), psi))
        return self.synthesis(ws, noise)

    def mix(self, ws: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
        """Style mixing regularisation: with probability `mixing_prob` a sample takes w2 from a
        random crossover layer on. Tensor ops only: no host sync per step."""
        n, L = ws.shape[0], self.num_ws
        cut = torch.randint(1, L, (n,), device=ws.device)
        cut = torch.where(torch.rand(n, device=ws.device) < self.mixing_prob, cut, torch.full_like(cut, L))
        second = torch.arange(L, device=ws.device)[None, :] >= cut[:, None]
        return torch.where(second[:, :, None], w2[:, None], ws)

    def synthesis(self, ws: torch.Tensor, noise: Optional[Sequence[Optional[torch.Tensor]]] = None,
                  stage: Optional[int] = None, alpha: Optional[float] = None) -> torch.Tensor:
        stage = self.stage if stage is None else stage
        alpha = self.alpha if alpha is None else alpha
        n = ws.shape[0]
        noises = self._noise(n, noise, ws.device)
        if self.use_adain:
            x = self.const.expand(n, -1, -1, -1)
        else:
            x = self.input(ws[:, 0]).view(n, -1, self.sizes[0], self.sizes[0])
        prev = x
        for k in range(stage + 1):
            if k == stage:
                prev = x
            for j in (2 * k, 2 * k + 1):
                x = self.layers[j](x, ws[:, j], noises[j])
        img = self.to_rgb[stage](x)
        if stage > 0 and alpha < 1.0:
            img = torch.lerp(F.interpolate(self.to_rgb[stage - 1](prev), scale_factor=2.0, mode="nearest"),
                             img, alpha)
        img = torch.tanh(img)
        factor = self.size // self.sizes[stage]
        return img if factor == 1 else F.interpolate(img, scale_factor=float(factor), mode="nearest")


class StyleDiscriminator(Growing):
    """The mirror of G: from-RGB at the stage's size, two convs and an average pool per level,
    the new level faded in from the pooled image through the old from-RGB (seed 003's
    'similar architecture for the discriminator'); then a minibatch-std feature (optional), a
    conv and two linear layers."""

    def __init__(self, img_shape, minibatch_std: bool):
        c, size, _ = img_shape
        self.sizes = stage_sizes(size)
        super().__init__(len(self.sizes))
        ch = widths(len(self.sizes))
        self.size = size
        self.from_rgb = nn.ModuleList(nn.Conv2d(c, w, 1) for w in ch)
        self.blocks = nn.ModuleList(
            [nn.Identity()] + [nn.Sequential(nn.Conv2d(ch[k], ch[k], 3, 1, 1), nn.LeakyReLU(0.2),
                                             nn.Conv2d(ch[k], ch[k - 1], 3, 1, 1), nn.LeakyReLU(0.2),
                                             nn.AvgPool2d(2)) for k in range(1, len(ch))])
        s0, c0 = self.sizes[0], ch[0]
        self.mbstd = MinibatchStd() if minibatch_std else nn.Identity()
        self.head = nn.Sequential(nn.Conv2d(c0 + int(minibatch_std), c0, 3, 1, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                                  nn.Linear(c0 * s0 * s0, c0), nn.LeakyReLU(0.2), nn.Linear(c0, 1))

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        stage, alpha = self.stage, self.alpha
        factor = self.size // self.sizes[stage]
        if factor > 1:
            x = F.avg_pool2d(x, factor)
        fading = stage > 0 and alpha < 1.0
        if fading:  # real and fake images alike: the new level's detail fades in
            x = torch.lerp(F.interpolate(F.avg_pool2d(x, 2), scale_factor=2.0, mode="nearest"), x, alpha)
        h = self.blocks[stage](F.leaky_relu(self.from_rgb[stage](x), 0.2))
        if fading:
            h = torch.lerp(F.leaky_relu(self.from_rgb[stage - 1](F.avg_pool2d(x, 2)), 0.2), h, alpha)
        for k in range(stage - 1, 0, -1):
            h = self.blocks[k](h)
        return self.head(self.mbstd(h)).squeeze(1)


def build(cfg, img_shape, num_classes):
    return (StyleGenerator(cfg.latent_dim, img_shape, cfg.mapping_layers, cfg.adain, cfg.noise_inputs),
            StyleDiscriminator(img_shape, cfg.minibatch_std))


def check(cfg) -> None:
    if cfg.image_size < 8:
        raise ConfigError("image_size", f"stylegan needs images of at least 8 px, got {cfg.image_size}")


MODELS.add("stylegan", ModelSpec(build, conditional=False, default_dropout=0.0, convolutional=True, check=check,
                                 kind="stylegan", unsupported={"patch_gan": "stylegan's discriminator judges "
                                                               "whole images; turn patch_gan off"},
                                 description="StyleGAN's parts (seed 003): mapping network, AdaIN, noise inputs, "
                                             "style mixing, progressive growing; small, for 28-64 px"))

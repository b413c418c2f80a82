"""`diffusion`: a class-conditional diffusion model trained by flow matching (rectified flow).

Why flow matching (docs/ARCHITECTURE.md, "The diffusion family"): noise z and an image x are
joined by the straight line x_t = (1 - t) z + t x, and a network learns the velocity x - z of
that line from x_t, t and the label (a plain MSE, no noise schedule to choose). Sampling
integrates dx/dt = v(x, t, label) from t = 0 (the noise) to t = 1 with a few Euler steps: a
deterministic map from the initial noise to an image, so that noise is a latent like a GAN's z
(Generate, the latent walk and Real or fake work on it unchanged).

The generator convention holds: `model(z, labels)` draws images in [-1, 1] from latents z of
length C*H*W (the initial noise, flattened); `sample_steps` and `guidance` are the run's
settings (the engine keeps them in step with the config) and may be overridden per call.
Classifier-free guidance: training replaces a share of the labels with a "no label" class (the
embedding's last row), so one network also learns the unconditional velocity v_u; sampling
takes v_u + w (v_c - v_u) for guidance w (1 = the conditional model alone, 0 = unconditional).

The velocity network is a small U-Net: a time embedding (sinusoidal, then an MLP) plus a label
embedding feed every residual block; three resolutions (full, 1/2, 1/4) with skip connections;
no attention (its cost on a CPU buys little at 28 px). The output layer starts at zero.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, ModelSpec

# variant -> (channels of the first level, patch): the second level has twice the channels. The
# first is the default: `tiny`, the fewest CPU seconds to recognisable digits (docs/PERF.md).
VARIANTS = {"tiny": (16, 2), "small": (32, 2), "full": (32, 1)}
EMBED_DIM = 128

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x, t) -> dx/dt


@torch.no_grad()
def euler_sample(velocity: Velocity, x0: torch.Tensor, steps: int) -> torch.Tensor:
    """Integrate dx/dt = velocity(x, t) from t = 0 to 1 in `steps` equal Euler steps. For a
    velocity field that is constant along straight lines (what rectified flow aims for) one step
    is already exact; the network's curved field needs a few."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x, dt = x0, 1.0 / steps
    for i in range(steps):
        t = torch.full((x.shape[0],), i * dt, device=x.device, dtype=x.dtype)
        x = x + dt * velocity(x, t)
    return x


def evaluations_per_image(steps: int, guidance: float) -> int:
    """Network evaluations one image costs: one per step, two with guidance (conditional and
    unconditional, batched together) unless w is 1 (conditional only) or 0 (unconditional only)."""
    return steps * (1 if guidance in (0.0, 1.0) else 2)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of t in [0, 1] (Vaswani et al.'s positions, on t * 1000)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def _groups(ch: int) -> int:
    return 8 if ch % 8 == 0 else 1


class ResBlock(nn.Module):
    """GroupNorm, SiLU, conv; the embedding added as a per-channel bias; GroupNorm, SiLU, conv."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(_groups(c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(_groups(c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class VelocityUNet(nn.Module):
    """v(x_t, t, label embedding). The image is first folded into `patch` x `patch` blocks
    (pixel unshuffle: 1 x 28 x 28 -> 4 x 14 x 14 for patch 2), so the convolutions run at a
    quarter of the pixels; then one level down (1/2) and back with a skip, and unfolded again."""

    def __init__(self, channels: int, width: int, patch: int = 2, emb_dim: int = EMBED_DIM):
        super().__init__()
        w, w2, c = width, 2 * width, channels * patch * patch
        self.width, self.patch = width, patch
        self.time = nn.Sequential(nn.Linear(width, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.inp = nn.Conv2d(c, w, 3, padding=1)
        self.down1 = ResBlock(w, w, emb_dim)
        self.pool = nn.Conv2d(w, w2, 3, stride=2, padding=1)
        self.down2 = ResBlock(w2, w2, emb_dim)
        self.mid = ResBlock(w2, w2, emb_dim)
        self.up2 = ResBlock(2 * w2, w2, emb_dim)
        self.up1 = ResBlock(w2 + w, w, emb_dim)
        self.out = nn.Sequential(nn.GroupNorm(_groups(w), w), nn.SiLU(), nn.Conv2d(w, c, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, label_emb: torch.Tensor) -> torch.Tensor:
        emb = F.silu(self.time(timestep_embedding(t, self.width)) + label_emb)
        x = F.pixel_unshuffle(x, self.patch) if self.patch > 1 else x
        h1 = self.down1(self.inp(x), emb)
        h2 = self.down2(self.pool(h1), emb)
        h = self.up2(torch.cat([self.mid(h2, emb), h2], 1), emb)
        h = F.interpolate(h, size=h1.shape[-2:], mode="nearest")
        h = self.up1(torch.cat([h, h1], 1), emb)
        out = self.out(h)
        return F.pixel_shuffle(out, self.patch) if self.patch > 1 else out


class FlowMatching(nn.Module):
    """The sampler around the velocity network: what the engine, the metrics and the explorers
    call as G(z, labels)."""

    def __init__(self, img_shape, num_classes: int, width: int, patch: int, sample_steps: int, guidance: float):
        super().__init__()
        self.img_shape, self.num_classes = tuple(img_shape), num_classes
        self.net = VelocityUNet(img_shape[0], width, patch)
        self.label = nn.Embedding(num_classes + 1, EMBED_DIM)  # the last row: "no label"
        nn.init.normal_(self.label.weight, 0.0, 0.02)
        self.sample_steps, self.guidance = int(sample_steps), float(guidance)

    @property
    def latent_dim(self) -> int:
        return math.prod(self.img_shape)

    def embed(self, labels: Optional[torch.Tensor]) -> torch.Tensor:
        """The label embedding (the latent walk blends two); None or -1 is "no label"."""
        return self.label(self.null_labels(labels))

    def null_labels(self, labels: Optional[torch.Tensor], n: int = 0) -> torch.Tensor:
        if labels is None:
            return torch.full((n,), self.num_classes, dtype=torch.long, device=self.label.weight.device)
        return torch.where(labels < 0, torch.full_like(labels, self.num_classes), labels)

    def velocity(self, x: torch.Tensor, t: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        """The training forward pass: labels, with `num_classes` (or -1) for "no label"."""
        return self.net(x, t, self.label(self.null_labels(labels, x.shape[0])))

    def loss(self, x: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, labels: Optional[torch.Tensor]
             ) -> torch.Tensor:
        """Flow matching: the MSE between v(x_t, t) and the line's velocity x - noise."""
        tt = t.view(-1, 1, 1, 1).to(x.dtype)
        xt = (1 - tt) * noise + tt * x
        return F.mse_loss(self.velocity(xt, t, labels).float(), (x - noise).float())

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None, *, steps: Optional[int] = None,
                guidance: Optional[float] = None) -> torch.Tensor:
        return self.forward_embedded(z, self.embed(labels) if labels is not None else None,
                                     steps=steps, guidance=guidance)

    def forward_embedded(self, z: torch.Tensor, emb: Optional[torch.Tensor], *, steps: Optional[int] = None,
                         guidance: Optional[float] = None) -> torch.Tensor:
        """Images from initial noise `z` (n, C*H*W) or (n, C, H, W) and label embeddings `emb`
        (n, E; None = unconditional), by `steps` Euler steps with guidance `guidance`."""
        steps = self.sample_steps if steps is None else int(steps)
        w = self.guidance if guidance is None else float(guidance)
        n = z.shape[0]
        x0 = z.reshape(n, *self.img_shape)
        null = self.label.weight[-1].expand(n, -1)
        if emb is None or w == 0.0:
            emb, w = null, 1.0
        else:
            emb = emb.expand(n, -1) if emb.shape[0] == 1 else emb

        def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            if w == 1.0:
                return self.net(x, t, emb)
            v_c, v_u = self.net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([emb, null])).chunk(2)
            return v_u + w * (v_c - v_u)

        return euler_sample(velocity, x0, steps).clamp(-1, 1)


def build(cfg, img_shape, num_classes):
    width, patch = VARIANTS[SPEC.resolve_variant(cfg)]
    return FlowMatching(img_shape, num_classes, width, patch, cfg.sample_steps, cfg.guidance), None


def latent_size(cfg) -> int:
    return cfg.channels * cfg.image_size ** 2


def check(cfg) -> None:
    _, patch = VARIANTS[SPEC.resolve_variant(cfg)]
    if cfg.image_size % (2 * patch) or cfg.image_size < 8:
        raise ConfigError("image_size", f"{cfg.model} ({SPEC.resolve_variant(cfg)}) halves the image "
                                        f"{'twice' if patch == 2 else 'once'}: use a multiple of {2 * patch} "
                                        f"(28, 32, 64), got {cfg.image_size}")
    if cfg.guidance not in (0.0, 1.0) and cfg.label_dropout == 0:
        raise ConfigError("guidance", "guidance other than 1 (or 0) needs the unconditional velocity, which only "
                                      "label_dropout > 0 trains; set label_dropout (0.1 is usual) or guidance 1")


SPEC = ModelSpec(build, conditional=True, default_dropout=0.0, kind="diffusion", variants=tuple(VARIANTS),
                 convolutional=True, check=check, adversarial=False, latent=latent_size,
                 description="Class-conditional diffusion (flow matching, a small U-Net) sampled by a few "
                             "deterministic Euler steps with classifier-free guidance: a fixed initial noise is "
                             "its latent")
MODELS.add("diffusion", SPEC)

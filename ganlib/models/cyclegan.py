"""CycleGAN (Zhu et al. 2017), unpaired translation: two generators (A -> B, and B -> A for the
way back) and two PatchGAN discriminators, one per domain, trained with LSGAN, cycle consistency
and identity losses by `ganlib.engine.update_rules.cyclegan`.

The pairs are kept as one module each (`CycleGenerators`, `CycleDiscriminators`), so a
checkpoint's "G" and "D" hold both networks and every reader that calls `G(x)` gets A -> B.
Variants: `unet` (the default: a small U-Net, cheap at 28 px, as the original code offers for
small images) and `resnet` (the paper's 6 residual blocks).
"""
from __future__ import annotations

import torch
from torch import nn

from ganlib.models import MODELS, ModelSpec
from ganlib.models.translation_layers import (
    PatchDiscriminator,
    ResNetGenerator,
    UNetGenerator,
    base_width,
    check_translation,
    patch_layers,
)


class CycleGenerators(nn.Module):
    """G_AB and G_BA; calling the pair translates A -> B, `back` translates B -> A."""

    def __init__(self, ab: nn.Module, ba: nn.Module):
        super().__init__()
        self.ab, self.ba = ab, ba

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.ab(x)

    def back(self, y: torch.Tensor) -> torch.Tensor:
        return self.ba(y)


class CycleDiscriminators(nn.Module):
    """D_A (judges domain A) and D_B (judges domain B); calling the pair is D_B."""

    def __init__(self, a: nn.Module, b: nn.Module):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.b(x)


def build(cfg, img_shape, num_classes):
    c, size, _ = img_shape
    dropout = MODELS.get(cfg.model).dropout(cfg)
    variant = MODELS.get(cfg.model).resolve_variant(cfg)

    def make():
        if variant == "resnet":
            return ResNetGenerator(c, c, size, dropout=dropout)
        return UNetGenerator(c, c, size, dropout=dropout)

    n, w = patch_layers(size), base_width(size)
    D = CycleDiscriminators(PatchDiscriminator(c, n, w), PatchDiscriminator(c, n, w))
    return CycleGenerators(make(), make()), D


MODELS.add("cyclegan", ModelSpec(build, conditional=False, default_dropout=0.0, kind="cyclegan", convolutional=True,
                                 variants=("unet", "resnet"), check=check_translation, data="unpaired",
                                 description="CycleGAN: unpaired translation (two generators, two PatchGAN Ds, "
                                             "LSGAN + cycle + identity losses, a 50-image history pool)"))

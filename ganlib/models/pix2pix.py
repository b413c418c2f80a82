"""pix2pix (Isola et al. 2017), paired translation: a U-Net G maps the source image to the
target, with dropout as its only noise; a conditional PatchGAN D judges (source, image) pairs
stacked on the channel axis, so it asks "is this a plausible target *for this input*", patch by
patch (16 x 16 px patches at 28-32 px, 34 at 64, 70 above). Trained with BCE + lambda_l1 * L1
by `ganlib.engine.update_rules.pix2pix`."""
from __future__ import annotations

from ganlib.models import MODELS, ModelSpec
from ganlib.models.translation_layers import (
    PatchDiscriminator,
    UNetGenerator,
    base_width,
    check_translation,
    patch_layers,
)


def build(cfg, img_shape, num_classes):
    c, size, _ = img_shape
    dropout = MODELS.get(cfg.model).dropout(cfg)
    return UNetGenerator(c, c, size, dropout=dropout), PatchDiscriminator(2 * c, patch_layers(size), base_width(size))


MODELS.add("pix2pix", ModelSpec(build, conditional=False, default_dropout=0.5, kind="pix2pix", convolutional=True,
                                check=check_translation, data="paired",
                                description="pix2pix: paired image-to-image translation (U-Net G with dropout, "
                                            "PatchGAN D on the input/output pair, BCE + 100 x L1)"))

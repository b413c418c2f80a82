"""Layer 1 (a plugin), models: the model registry, one file per architecture ending by
registering itself, shared layers, and the generator handle that carries what sampling needs.
It imports only core; a config reaches it as a plain object with the fields it reads.

Model registry: each entry builds a (generator, discriminator) pair from a run's config.

Every generator is called as `G(z, labels)` and every discriminator as `D(x, labels)` returning
logits of shape (N,) (or (N, P) for a PatchGAN head); unconditional models ignore `labels`. One
calling convention lets one training loop, one sampler and one checkpoint format serve every
model. A VAE registers with kind "vae": its "generator" is the VAE, whose `forward(z, labels)`
decodes, and it has no discriminator. A diffusion model registers with kind "diffusion": its
"generator" runs the sampler from an initial noise of the image's size (`ModelSpec.latent`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganlib.core.errors import ConfigError
from ganlib.core.registry import Registry

TrainConfig = Any  # a ganlib.store.config.TrainConfig; the store layer sits above the models


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[..., tuple[nn.Module, Optional[nn.Module]]]  # (cfg, img_shape, num_classes) -> (G, D)
    conditional: bool
    default_dropout: float
    description: str
    kind: str = "gan"  # the update rule's name: "gan", "vae", "pix2pix", "cyclegan", "stylegan", "diffusion"
    variants: tuple[str, ...] = ("default",)  # the first is the default
    convolutional: bool = False
    check: Optional[Callable[["TrainConfig"], None]] = None  # refuse configs the architecture cannot take
    # What it trains on: "images", or translation data (ganlib/data/translation.py) that is
    # "paired" (source[i] -> images[i]) or "unpaired" (two domains; paired data serves too).
    data: str = "images"
    adversarial: bool = True  # trained against a discriminator (False: the VAE, diffusion): D's options do not apply
    # The length of z when the family derives it from the config (diffusion: the image's C*H*W);
    # None: the config's latent_dim.
    latent: Optional[Callable[["TrainConfig"], int]] = None
    # Options its architecture cannot take, each with the reason: `store.config_rules` refuses
    # them and the Train form hides them.
    unsupported: Mapping[str, str] = field(default_factory=dict)

    @property
    def translation(self) -> bool:
        return self.data != "images"

    def check_config(self, cfg: "TrainConfig") -> None:
        if cfg.variant != "default" and cfg.variant not in self.variants:
            raise ConfigError("variant", f"{cfg.model} has variants {', '.join(self.variants)}, not {cfg.variant!r}")
        if self.check is not None:
            self.check(cfg)

    def resolve_variant(self, cfg: "TrainConfig") -> str:
        return self.variants[0] if cfg.variant == "default" else cfg.variant

    def dropout(self, cfg: "TrainConfig") -> float:
        return self.default_dropout if cfg.dropout is None else cfg.dropout

    def latent_size(self, cfg: "TrainConfig") -> int:
        """The length of the latents G takes."""
        return self.latent(cfg) if self.latent is not None else cfg.latent_dim


MODELS: Registry[ModelSpec] = Registry("model")


def build_models(cfg: "TrainConfig", num_classes: int = 10) -> tuple[nn.Module, Optional[nn.Module]]:
    shape = (cfg.channels, cfg.image_size, cfg.image_size)
    G, D = MODELS.get(cfg.model).build(cfg, shape, num_classes)
    if D is not None and cfg.spectral_norm:
        apply_spectral_norm(D)
    return G, D


def latent_size(cfg: "TrainConfig") -> int:
    """The length of the latents the config's generator takes (its latent_dim, unless the family
    derives it): what the grids, the handles and the judges draw."""
    return MODELS.get(cfg.model).latent_size(cfg)


def apply_spectral_norm(module: nn.Module) -> None:
    """Spectral norm on every conv and linear layer of D (Miyato et al. 2018): bounds D's
    Lipschitz constant, a cheap alternative to a gradient penalty."""
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Conv2d, nn.Linear)) and not isinstance(child, nn.LazyLinear):
            setattr(module, name, spectral_norm(child))
        else:
            apply_spectral_norm(child)


# isort: off
from ganlib.models import mlp_gan as _mlp_gan  # noqa: E402,F401
from ganlib.models import cgan as _cgan  # noqa: E402,F401
from ganlib.models import dcgan as _dcgan  # noqa: E402,F401
from ganlib.models import cdcgan as _cdcgan  # noqa: E402,F401
from ganlib.models import compact as _compact  # noqa: E402,F401
from ganlib.models import vae as _vae  # noqa: E402,F401
from ganlib.models import pix2pix as _pix2pix  # noqa: E402,F401
from ganlib.models import cyclegan as _cyclegan  # noqa: E402,F401
from ganlib.models import stylegan as _stylegan  # noqa: E402,F401
from ganlib.models import diffusion as _diffusion  # noqa: E402,F401
# isort: on

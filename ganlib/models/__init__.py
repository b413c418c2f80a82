"""Model registry: each entry builds a (generator, discriminator) pair from a run's config.

Every generator is called as `G(z, labels)` and every discriminator as `D(x, labels)` returning
logits of shape (N,); unconditional models ignore `labels`. One calling convention lets one
training loop, one sampler and one checkpoint format serve every model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from torch import nn

from ganlib.registry import Registry

if TYPE_CHECKING:
    from ganlib.config import TrainConfig


@dataclass(frozen=True)
class ModelSpec:
    build: Callable[..., tuple[nn.Module, nn.Module]]  # (cfg, img_shape, num_classes) -> (G, D)
    conditional: bool
    default_dropout: float
    description: str

    def check_config(self, cfg: "TrainConfig") -> None:
        """Refuse configs the architecture cannot take; MLPs take any image shape."""

    def dropout(self, cfg: "TrainConfig") -> float:
        return self.default_dropout if cfg.dropout is None else cfg.dropout


MODELS: Registry[ModelSpec] = Registry("model")


def build_models(cfg: "TrainConfig", num_classes: int = 10) -> tuple[nn.Module, nn.Module]:
    shape = (cfg.channels, cfg.image_size, cfg.image_size)
    return MODELS.get(cfg.model).build(cfg, shape, num_classes)


from ganlib.models import mlp_gan as _mlp_gan  # noqa: E402,F401
from ganlib.models import cgan as _cgan  # noqa: E402,F401

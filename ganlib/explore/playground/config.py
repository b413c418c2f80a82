"""The playground's settings: one frozen, validated dataclass, smaller than TrainConfig.

A field marked `live` may change while the playground trains (it applies at the next step);
changing any other field rebuilds the playground. The engine's update rule (`GANUpdate`)
reads its settings from this config by field name; what it reads that the playground does
not offer (label smoothing, EMA, DiffAugment, compile, bf16) is a fixed class constant, and
`latent_dim` is the noise size.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ganlib.core.errors import ConfigError
from ganlib.explore.playground.toys import TOYS
from ganlib.losses import LOSSES


def _live(default: Any) -> Any:
    """A field the playground takes while it trains."""
    return field(default=default, metadata={"live": True})


@dataclass(frozen=True)
class PlaygroundConfig:
    distribution: str = "ring"  # a name from TOYS
    loss: str = "nonsaturating"  # a name from ganlib.losses.LOSSES
    noise_dim: int = 2  # G's input noise: 2 (the plane is warped, as in GAN Lab) or 8
    hidden: int = 64  # width of every hidden layer of G and D
    layers: int = 2  # hidden layers in G and in D
    batch_size: int = _live(256)  # real and generated points per update
    lr_g: float = _live(1e-3)  # G's Adam learning rate
    lr_d: float = _live(1e-3)  # D's Adam learning rate
    beta1: float = _live(0.5)  # Adam beta1 for both
    beta2: float = _live(0.99)  # Adam beta2 for both
    n_critic: int = _live(1)  # D updates per step; each step then makes one G update
    gradient_penalty: bool = _live(False)  # add the WGAN-GP penalty (always on for wgan_gp)
    gp_weight: float = _live(0.1)  # its weight lambda (small in 2-D: the plane is small)
    r1_gamma: float = _live(0.0)  # R1 penalty on D's gradient at real points, gamma (0 = off)
    clip_value: float = _live(0.1)  # wgan: D's weights are clipped to [-c, c] after each D update
    instance_noise: float = _live(0.0)  # std of the Gaussian noise added to every point D sees (0 = off)
    seed: int = 0  # weights, noise and the drawn real points

    # What GANUpdate reads that the playground does not offer.
    label_smoothing: ClassVar[float] = 0.0
    ema_decay: ClassVar[float] = 0.0
    diffaugment: ClassVar[str] = ""
    compile: ClassVar[str] = "off"
    precision: ClassVar[str] = "fp32"

    def __post_init__(self) -> None:
        for name, reg in (("distribution", TOYS), ("loss", LOSSES)):
            if getattr(self, name) not in reg:
                raise ConfigError(name, f"unknown {reg.kind} {getattr(self, name)!r}; known: {', '.join(reg.names())}")
        for name, lo in (("noise_dim", 1), ("hidden", 2), ("layers", 1), ("batch_size", 2), ("n_critic", 1)):
            if int(getattr(self, name)) < lo:
                raise ConfigError(name, f"must be at least {lo}, got {getattr(self, name)}")
        for name in ("lr_g", "lr_d", "clip_value", "gp_weight"):
            if not getattr(self, name) > 0:
                raise ConfigError(name, f"must be positive, got {getattr(self, name)}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(name, f"must be in [0, 1), got {getattr(self, name)}")
        for name in ("r1_gamma", "instance_noise"):
            if getattr(self, name) < 0:
                raise ConfigError(name, f"must be 0 (off) or more, got {getattr(self, name)}")

    def replace(self, **changes: Any) -> "PlaygroundConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def rebuilds(self, other: "PlaygroundConfig") -> bool:
        """Whether going from this config to `other` changes a field that is not live."""
        return any(getattr(other, name) != getattr(self, name) for name in FIXED_FIELDS)

    @property
    def latent_dim(self) -> int:
        """The update rule's name for the noise size."""
        return self.noise_dim

    @property
    def uses_gp(self) -> bool:
        return LOSSES.get(self.loss).needs_gp or self.gradient_penalty


LIVE_FIELDS = tuple(f.name for f in dataclasses.fields(PlaygroundConfig) if f.metadata.get("live"))
FIXED_FIELDS = tuple(f.name for f in dataclasses.fields(PlaygroundConfig) if not f.metadata.get("live"))

"""A generator together with what sampling it needs: latent size, classes, conditional or not.

Metrics, sampling, the explorers and the engine's previews take one `GeneratorHandle` instead
of loose `latent_dim=` / `conditional=` / `num_classes=` arguments, as StyleGAN's `G.z_dim`
does. Every draw uses its own `torch.Generator`, never the global RNG: the dashboard samples
in the process where a job trains, and a shifted global stream would change that job's run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ganlib.core.errors import BadValue

GRID_SEED_OFFSET = 7919  # the fixed-noise grid's seed is the run's seed plus this
# A sampler option a handle may pass -> the attribute of G that holds the run's own value
SAMPLER_SETTINGS = {"steps": "sample_steps", "guidance": "guidance"}


@dataclass
class GeneratorHandle:
    G: nn.Module  # called as G(z, labels); a VAE's decoder is called the same way
    latent_dim: int
    num_classes: int = 1
    conditional: bool = False
    class_names: list[str] = field(default_factory=list)
    kind: str = "gan"  # the model's kind: "gan", "vae", "diffusion", ...
    epoch: int = 0  # the epoch the weights are from (0 when unknown)
    source: str = ""  # where the weights came from: a checkpoint path, or "training"
    config: dict = field(default_factory=dict)  # the run config the weights were trained with, when known
    # Keyword arguments every draw passes to G: a diffusion model's `steps` and `guidance`
    # (empty: G's own settings; a GAN draws in one pass and takes none). See `with_sampling`.
    sampling: dict = field(default_factory=dict)

    @property
    def picks_labels(self) -> bool:
        """Whether a page offers a label picker: a conditional model of more than one class (a
        single-class folder's run takes its one label without asking)."""
        return self.conditional and self.num_classes > 1

    @property
    def device(self) -> torch.device:
        p = next(self.G.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def latents(self, n: int, seed: Optional[int] = None, *, generator: Optional[torch.Generator] = None
                ) -> torch.Tensor:
        """`n` latents on G's device. A seed draws on the CPU, so the same seed gives the same
        latents on every device; `generator` (on G's device) is for long streams of draws."""
        if generator is not None:
            return torch.randn(n, self.latent_dim, device=generator.device, generator=generator).to(self.device)
        return seeded_latents(int(seed or 0), n, self.latent_dim).to(self.device)

    def labels(self, labels: int | Sequence[int] | torch.Tensor | None, n: int) -> Optional[torch.Tensor]:
        """The class labels of `n` samples: one class for all, one per sample, or (None) cycling
        through the classes. None for an unconditional generator, which refuses labels."""
        if not self.conditional:
            if labels is not None:
                raise BadValue("this run's generator is unconditional: it takes no label")
            return None
        if labels is None:
            t = torch.arange(n) % self.num_classes
        elif isinstance(labels, (int, np.integer)):
            t = torch.full((n,), int(labels))
        else:
            t = torch.as_tensor(labels if torch.is_tensor(labels) else list(labels), dtype=torch.int64).cpu()
            if len(t) != n:
                raise BadValue(f"{len(t)} labels given for {n} samples")
        if (t < 0).any() or (t >= self.num_classes).any():
            raise BadValue(f"labels must be between 0 and {self.num_classes - 1}")
        return t.long().to(self.device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Images in [-1, 1] from latents, with G in eval mode (restored afterwards)."""
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G(z.to(self.device), labels, **self.sampling)
        finally:
            self.G.train(was_training)

    def sampler_settings(self) -> dict[str, Any]:
        """The sampler settings its draws use (`with_sampling`'s, else G's own): {"steps": 10,
        "guidance": 2.0} for a diffusion G; {} for one that draws in one pass."""
        return {k: self.sampling.get(k, getattr(self.G, attr)) for k, attr in SAMPLER_SETTINGS.items()
                if hasattr(self.G, attr)}

    def with_sampling(self, **options) -> "GeneratorHandle":
        """A handle on the same G whose draws use these sampler settings (`steps`, `guidance`;
        None keeps G's own). Refused for a generator that has no sampler to set."""
        options = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(k for k in options if not hasattr(self.G, SAMPLER_SETTINGS.get(k, "?")))
        if unknown:
            raise BadValue(f"this run's generator ({self.kind}) draws in one pass: it has no "
                             f"{' or '.join(unknown)} to set")
        return dataclasses.replace(self, sampling={**self.sampling, **options})

    def sample(self, n: int, seed: Optional[int] = None, labels: int | Sequence[int] | None = None) -> torch.Tensor:
        return self.decode(self.latents(n, seed), self.labels(labels, n))


def seeded_latents(seed: int, n: int, dim: int) -> torch.Tensor:
    """The `n` latents every page draws for `seed` (Generate, Latent walk, the explorer), on the CPU."""
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(int(seed)))


def grid_latents(seed: int, latent_dim: int, num_classes: int, conditional: bool
                 ) -> tuple[torch.Tensor, Optional[torch.Tensor], int]:
    """The fixed-noise grid's (z, labels, columns): drawn from its own generator so that it never
    shifts the training RNG, and identical on CPU and GPU. Conditional grids hold one class per
    row."""
    g = torch.Generator().manual_seed(seed + GRID_SEED_OFFSET)
    if conditional and num_classes > 1:
        rows, ncol = min(num_classes, 16), 10
        labels = torch.arange(rows).repeat_interleave(ncol)
        return torch.randn(rows * ncol, latent_dim, generator=g), labels, ncol
    z = torch.randn(64, latent_dim, generator=g)  # one class (or none): a square grid
    return z, (torch.zeros(64, dtype=torch.long) if conditional else None), 8

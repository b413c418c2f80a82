"""What the image-to-image families (pix2pix, CycleGAN) share: their batch (source and target
images instead of images and labels), their grid (held-out inputs | outputs | targets, and the
way back for CycleGAN), the linear learning-rate decay over the last half of training, and
statistic sums. The data is translation data (`ganlib/data/translation.py`): `images` is domain
B, `source` domain A, `held_out` the fixed test split."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from ganlib.engine.update_rules import UpdateRule
from ganlib.engine.update_rules.common import GeneratorAndCritic

GRID_EXAMPLES = 8  # held-out examples in the per-epoch grid, one per row
DECAY_START = 0.5  # the learning rates decay linearly to 0 over the last half of training (both papers)


def decay_factor(progress: float) -> float:
    """1 for the first half of training, then linearly down to 0 at the end."""
    return min(1.0, (1.0 - progress) / (1.0 - DECAY_START))


class TranslationRule(GeneratorAndCritic, UpdateRule):
    """The base of the translation rules; a subclass sets `stat_names` and writes `train_step`."""

    def __init__(self, cfg: Any, G: nn.Module, D: Optional[nn.Module], num_classes: int, conditional: bool,
                 device: torch.device, generator: Optional[torch.Generator] = None):
        self.cfg, self.G, self.D, self.device = cfg, G, D, device
        self.num_classes, self.conditional = num_classes, False
        self.make_optimizers(cfg, device)
        self.ema = None
        self.compile(cfg.compile)
        self.reset()

    def models(self):
        return {"G": self.G, "D": self.D}

    def reset(self) -> None:
        self.sums = torch.zeros(len(self.stat_names), device=self.device)
        self.n = 0

    def add_stats(self, *values: torch.Tensor) -> None:
        with torch.no_grad():
            self.sums += torch.stack([v.detach().float().reshape(()).to(self.device) for v in values])
        self.n += 1

    def sum_groups(self):
        return [(self.stat_names, self.sums, self.n)]

    def epoch_means(self) -> dict[str, float]:
        return dict(zip(self.stat_names, (self.sums / max(1, self.n)).tolist()))

    def set_learning_rates(self, progress: float) -> None:
        """The config's rates times the decay: recomputed every step from the run's progress, so a
        resumed run (whose config sets the rates back) continues the schedule exactly."""
        f = decay_factor(progress)
        for opt, lr in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * f

    # ---- the hooks the trainer calls -------------------------------------------------------
    def batch(self, data, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(source, target) of one step. Paired data gathers the same rows of both; for unpaired
        data `idx` walks domain B and domain A is drawn at random (the training RNG, which a
        checkpoint captures), as CycleGAN's unaligned loader does."""
        if data.paired:
            return data.source_batch(idx), data.batch(idx)
        ia = torch.randint(0, data.source_pixels.shape[0], (idx.shape[0],), device=idx.device)
        return data.source_batch(ia), data.batch(idx)

    def grid_panels(self, G: nn.Module, a: torch.Tensor, b: Optional[torch.Tensor]) -> list[torch.Tensor]:
        """The grid's columns for inputs `a` (and their targets `b` when known): input | output | target."""
        return [a, G(a)] + ([b] if b is not None else [])

    def grid(self, data, G: nn.Module, fixed_z, fixed_labels, cols: int) -> tuple[torch.Tensor, int]:
        """One held-out example per row, its panels side by side (the training split when the
        data has no held-out one)."""
        split = data.held_out if data.held_out is not None else data
        k = min(GRID_EXAMPLES, len(split), split.source.shape[0])
        a = split.source[:k]
        b = split.images[:k] if split.paired else None
        panels = self.grid_panels(G, a, b)
        return torch.stack(panels, 1).reshape(-1, *a.shape[1:]), len(panels)

"""The StyleGAN update rule: GANUpdate's steps (any loss, R1, EMA of G) plus what StyleGAN adds:
the growing schedule (stage and fade-in alpha from the run's progress, on G, D and the EMA
copy), the style-mixing probability (a live field) and R1 applied lazily every `r1_every`
steps with its weight scaled up to match (StyleGAN2's lazy regularisation, cheaper on a CPU).
The stage and alpha at the last step are two more statistics: the charts mark each stage."""
from __future__ import annotations

import torch

from ganlib.engine.update_rules import UPDATE_RULES
from ganlib.engine.update_rules.gan import GANUpdate
from ganlib.models.stylegan import growth_at

GROWTH_STATS = ("stage", "alpha")


class StyleGANUpdate(GANUpdate):
    stat_names = GANUpdate.stat_names + GROWTH_STATS

    def reset(self) -> None:
        super().reset()
        self.growth_steps = 0

    def growth(self, progress: float) -> tuple[int, float]:
        return growth_at(progress, self.G.n_stages, self.cfg.progressive, self.cfg.grow_until)

    def r1_weight(self, i: int) -> float:
        every = self.cfg.r1_every
        return 0.5 * self.cfg.r1_gamma * every if i % every == 0 else 0.0

    def train_step(self, x, y, i, progress) -> None:
        stage, alpha = self.growth(progress)
        for m in (self.G, self.D, self.ema.model if self.ema else None):
            if m is not None:
                m.set_growth(stage, alpha)
        self.G.mixing_prob = self.cfg.style_mixing
        super().train_step(x, y, i, progress)
        self.growth_steps += 1

    def sum_groups(self):
        """The stage and alpha of the last step, as sums that average to them: an epoch's row says
        where the schedule stands at its end, and a stage change is where the row's stage changes."""
        n = self.growth_steps
        last = torch.tensor([self.G.stage * n, self.G.alpha * n], dtype=torch.float32, device=self.device)
        return super().sum_groups() + [(GROWTH_STATS, last, n)]

    def epoch_means(self) -> dict[str, float]:
        d = (self.d_sums / max(1, self.d_steps)).tolist()  # the epoch's one host sync (two tiny reads)
        g = (self.g_sums / max(1, self.g_steps)).tolist()
        means = {**dict(zip(self.D_STATS, d)), **dict(zip(self.G_STATS, g)),
                 "stage": float(self.G.stage), "alpha": float(self.G.alpha)}
        return {k: means[k] for k in self.stat_names}


UPDATE_RULES.add("stylegan", StyleGANUpdate)

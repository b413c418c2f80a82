"""The CycleGAN update rule (Zhu et al. 2017), as in the original code: LSGAN adversarial terms
for G_AB (against D_B) and G_BA (against D_A); cycle consistency |G_BA(G_AB(a)) - a| +
|G_AB(G_BA(b)) - b| weighted by lambda_cycle (10); identity |G_AB(b) - b| + |G_BA(a) - a|
weighted by lambda_identity * lambda_cycle (0.5 * 10). Each D sees its fakes through a history
pool of the last `pool_size` (50) generated images, and minimises half the LSGAN loss."""
from __future__ import annotations

from typing import Optional

import torch

from ganlib.engine.update_rules import UPDATE_RULES
from ganlib.engine.update_rules.common import compiled, grad_norm, step_generator
from ganlib.engine.update_rules.translation import TranslationRule
from ganlib.losses import LOSSES

LSGAN = LOSSES.get("lsgan")  # D: 0.5 * ((D(real) - 1)^2 + D(fake)^2), as the original code


class ImagePool:
    """Shrivastava et al.'s history of generated images: each new fake enters the pool; once it
    is full, half the time D sees an older fake instead (the one it replaces), so D does not
    forget what G made a while ago. The draws use the training RNG (resumable); the pool's
    tensors are part of the checkpoint."""

    def __init__(self, size: int):
        self.size = size
        self.images: Optional[torch.Tensor] = None  # (n <= size, C, H, W)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        fakes = fakes.detach()
        out = []
        for f in fakes:
            f = f.unsqueeze(0)
            n = 0 if self.images is None else self.images.shape[0]
            if n < self.size:
                self.images = f.clone() if self.images is None else torch.cat([self.images, f])
                out.append(f)
            elif torch.rand(()).item() > 0.5:
                j = int(torch.randint(0, self.size, ()).item())
                out.append(self.images[j:j + 1].clone())
                self.images[j] = f[0]
            else:
                out.append(f)
        return torch.cat(out)


class CycleGANUpdate(TranslationRule):
    stat_names = ("d_loss", "g_loss", "g_adv", "g_cycle", "g_identity", "d_a", "d_b", "grad_norm_g", "grad_norm_d")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool_a, self.pool_b = ImagePool(self.cfg.pool_size), ImagePool(self.cfg.pool_size)

    def compile(self, mode: str) -> None:
        G, D = self.G, self.D
        self.g_ab, self.g_ba = compiled(G.ab, mode), compiled(G.ba, mode)
        self.d_a, self.d_b = compiled(D.a, mode), compiled(D.b, mode)

    def extra_state(self) -> dict[str, Optional[torch.Tensor]]:
        """The history pools' contents, saved in the checkpoint so a resume sees the same fakes."""
        return {"pool_a": self.pool_a.images, "pool_b": self.pool_b.images}

    def load_extra_state(self, ck: dict) -> None:
        self.pool_a.images, self.pool_b.images = ck.get("pool_a"), ck.get("pool_b")

    def grid_panels(self, G, a, b):
        out = G(a)
        return [a, out] + ([b] if b is not None else []) + [G.back(out)]  # ... | the way back

    def train_step(self, x, y, i, progress) -> None:
        """`x` a batch of domain A, `y` a batch of domain B (unrelated images)."""
        self.begin_step()
        self.set_learning_rates(progress)
        cfg = self.cfg
        a, b = x, y
        lam, lam_id = cfg.lambda_cycle, cfg.lambda_identity * cfg.lambda_cycle
        for p in self.d_params:
            p.requires_grad_(False)
        with self.autocast():
            fake_b, fake_a = self.g_ab(a), self.g_ba(b)
            rec_a, rec_b = self.g_ba(fake_b), self.g_ab(fake_a)
            db_fake, da_fake = self.d_b(fake_b).float(), self.d_a(fake_a).float()
            g_adv = ((db_fake - 1).pow(2).mean() + (da_fake - 1).pow(2).mean())
            g_cycle = (rec_a.float() - a).abs().mean() + (rec_b.float() - b).abs().mean()
            g_identity = torch.zeros((), device=a.device)
            if lam_id > 0:
                g_identity = (self.g_ab(b).float() - b).abs().mean() + (self.g_ba(a).float() - a).abs().mean()
        loss_g = g_adv + lam * g_cycle + lam_id * g_identity
        gn_g = step_generator(self.opt_g, loss_g, self.g_params, self.d_params)

        old_b, old_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        with self.autocast():
            loss_db = LSGAN.d_loss(self.d_b(b).float(), self.d_b(old_b).float())
            loss_da = LSGAN.d_loss(self.d_a(a).float(), self.d_a(old_a).float())
        loss_d = loss_da + loss_db
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        gn_d = grad_norm(self.d_params)
        self.opt_d.step()
        self.add_stats(loss_d, loss_g, g_adv, g_cycle, g_identity, loss_da, loss_db, gn_g, gn_d)


UPDATE_RULES.add("cyclegan", CycleGANUpdate)

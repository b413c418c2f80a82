"""One playground session: a toy GAN, trained by the engine's own update rule, and
everything the page draws.

    pg = Playground(PlaygroundConfig(distribution="ring", loss="nonsaturating"))
    pg.step(200)                      # 200 training steps on the CPU, a fraction of a second
    snap = pg.snapshot()              # plain numpy: points, D's heatmap, G's gradient arrows, traces

One playground step is n_critic D updates, then one G update, made by the engine's
`GANUpdate` (the same losses, penalties, weight clipping and instance noise as a training
job): `n_critic` calls of `train_step` with a fresh real batch each, then `epoch_means()`
reads that step's losses, as the engine reads an epoch's.

Nothing here touches torch's global RNG: the weights, the real points, the noise and the
penalty's interpolation all draw from the playground's own `torch.Generator` (passed to the
rule as `generator=`), because the dashboard may be training a job in the same process, and
a shifted global random stream would change that job's run. Tensors are tiny, so every step
and view runs on one torch thread (`ganlib.core.threads`).
"""
from __future__ import annotations

import math
import threading
from typing import Any, Callable, Optional

import numpy as np
import torch

from ganlib.core.errors import Diverged
from ganlib.core.threads import torch_threads
from ganlib.engine.update_rules.gan import GANUpdate
from ganlib.explore.playground.config import PlaygroundConfig
from ganlib.explore.playground.networks import ToyDiscriminator, ToyGenerator
from ganlib.explore.playground.toys import TOYS, Coverage, modes_covered, near_data_share
from ganlib.losses import LOSSES

CPU = torch.device("cpu")


def one_thread():
    """A 256 x 64 matmul gains nothing from a second thread, and on 2 busy cores (a training
    job, the server) its spinning OpenMP workers made a step about 20 times slower."""
    return torch_threads(1)


class Playground:
    """A toy GAN and everything the page draws. Thread-safe: `step`, `configure`, `reset` and
    `snapshot` each take the lock (`step` once per training step, so a snapshot never waits
    long)."""

    N_SHOW = 512  # real and generated points drawn
    N_EVAL = 1024  # generated points behind the mode count (fixed noise: a smooth trace)
    N_REF = 2000  # real points behind the "near the data" share of continuous shapes
    GRID = 50  # D's heatmap is GRID x GRID
    N_ARROWS = 64  # generated points that get a gradient arrow
    TRACE_EVERY = 5  # steps per trace row (doubles whenever the trace is thinned)
    TRACE_MAX = 600  # rows kept; past this every other row is dropped
    MIN_SHARE = 0.01  # a mode is covered when 1 % of the generated points are near it

    def __init__(self, cfg: Optional[PlaygroundConfig] = None):
        self._lock = threading.RLock()
        self.reset(cfg or PlaygroundConfig())

    # ---- commands ----------------------------------------------------------------------
    def reset(self, cfg: Optional[PlaygroundConfig] = None) -> None:
        """Fresh weights, optimizers and traces (the same seed gives the same start)."""
        with self._lock:
            cfg = cfg or self.cfg
            self.cfg, self.toy, self.loss = cfg, TOYS.get(cfg.distribution), LOSSES.get(cfg.loss)
            self.gen = torch.Generator().manual_seed(cfg.seed)
            self.G = ToyGenerator(cfg.noise_dim, cfg.hidden, cfg.layers, self.gen)
            self.D = ToyDiscriminator(cfg.hidden, cfg.layers, self.gen)
            self.rule = GANUpdate(cfg, self.G, self.D, num_classes=1, conditional=False, device=CPU,
                                  generator=self.gen)
            self.d_params = self.rule.d_params
            show = torch.Generator().manual_seed(cfg.seed + 1)  # fixed: the picture does not flicker
            self.real_show = self.toy.sample(self.N_SHOW, show)
            self.reference = self.toy.sample(self.N_REF, show) if self.toy.centres is None else None
            self.z_eval = torch.randn(self.N_EVAL, cfg.noise_dim, generator=show)
            self.steps = 0
            self.diverged = False
            self.trace_every = self.TRACE_EVERY
            self.trace: dict[str, list[float]] = {k: [] for k in ("step", "d_loss", "g_loss", "modes", "quality")}
            self._sums = [0.0, 0.0, 0]  # d_loss, g_loss, steps since the last trace row
            self._record()

    def configure(self, cfg: PlaygroundConfig) -> bool:
        """Apply new settings: learning rates, n_critic, penalties, clipping and instance noise
        take effect at the next step; any other change rebuilds the playground. Returns True
        when it was rebuilt."""
        with self._lock:
            if cfg == self.cfg:
                return False
            if self.cfg.rebuilds(cfg):
                self.reset(cfg)
                return True
            for opt, lr in ((self.rule.opt_g, cfg.lr_g), (self.rule.opt_d, cfg.lr_d)):
                for group in opt.param_groups:
                    group["lr"], group["betas"] = lr, (cfg.beta1, cfg.beta2)
            # The rule reads its settings from cfg at every step, except whether the gradient
            # penalty is on, which it fixes when it is built.
            self.rule.cfg, self.rule.use_gp = cfg, cfg.uses_gp
            self.cfg = cfg
            return False

    def step(self, n: int = 1, should_stop: Optional[Callable[[], bool]] = None) -> int:
        """Train `n` steps (each: n_critic D updates, then one G update); returns the step count.
        Stops early, without raising, once the losses are NaN (`diverged`)."""
        with one_thread():
            for _ in range(int(n)):
                if should_stop is not None and should_stop():
                    break
                with self._lock:
                    if self.diverged:
                        break
                    try:
                        self._train_step()
                    except Diverged:
                        self.diverged = True
                        break
        return self.steps

    # ---- training ----------------------------------------------------------------------
    def _train_step(self) -> None:
        """n_critic D updates on fresh real batches, the last followed by G's update; raises
        Diverged (after recording the step) once a loss is NaN or infinite."""
        cfg, rule = self.cfg, self.rule
        rule.reset()
        for i in range(cfg.n_critic):
            rule.train_step(self.toy.sample(cfg.batch_size, self.gen), None, i, 0.0)
        means = rule.epoch_means()  # CPU tensors: reading them costs nothing
        d, g = means["d_loss"], means["g_loss"]
        self.steps += 1
        finite = math.isfinite(d) and math.isfinite(g)
        self._sums[0] += d
        self._sums[1] += g
        self._sums[2] += 1
        if self.steps % self.trace_every == 0 or not finite:
            self._record()
        if not finite:
            raise Diverged(f"the losses became NaN or infinite at step {self.steps}")

    @torch.no_grad()
    def _quality(self, fake: torch.Tensor) -> tuple[Optional[Coverage], float]:
        pts = fake.numpy()
        if self.toy.centres is not None:
            cov = modes_covered(pts, self.toy.centres, self.toy.radius, self.MIN_SHARE)
            return cov, cov.high_quality
        return None, near_data_share(pts, self.reference.numpy(), self.toy.radius)

    @torch.no_grad()
    def _record(self) -> None:
        """Append a trace row: the mean losses since the last row and the current coverage."""
        cov, quality = self._quality(self.G(self.z_eval))
        n = self._sums[2]
        t = self.trace
        t["step"].append(self.steps)
        t["d_loss"].append(self._sums[0] / n if n else math.nan)
        t["g_loss"].append(self._sums[1] / n if n else math.nan)
        t["modes"].append(float(cov.covered) if cov else math.nan)
        t["quality"].append(quality)
        self._sums = [0.0, 0.0, 0]
        if len(t["step"]) > self.TRACE_MAX:  # keep the first row and every other one after it
            for k in t:
                t[k] = t[k][:1] + t[k][2::2]
            self.trace_every *= 2

    # ---- views -------------------------------------------------------------------------
    def g_loss_at(self, points: Any) -> float:
        """G's loss if the generated batch were `points` (no instance noise): the quantity whose
        negative gradient the arrows show."""
        with self._lock, one_thread(), torch.no_grad():
            x = torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2)
            return float(self.loss.g_loss(self.D(x)))

    def traces(self) -> dict[str, Any]:
        """Just the traces (cheap): step, n_modes and trace, as in `snapshot()`."""
        with self._lock:
            return {"step": self.steps, "n_modes": 0 if self.toy.centres is None else len(self.toy.centres),
                    "trace": {k: np.asarray(v, dtype=np.float64) for k, v in self.trace.items()}}

    def snapshot(self) -> dict[str, Any]:
        """Everything the page draws, as plain numpy copies:

        real, fake          (N_SHOW, 2) drawn real points; G's points for a fixed noise
        grid_x, grid_y      (GRID,) heatmap axes; d_grid (GRID, GRID): d_grid[i, j] is D at
                            (grid_x[j], grid_y[i]); a probability for BCE losses, else the raw score
        arrow_from, arrows  (N_ARROWS, 2) generated points and -dL_G/dx there: the direction G's
                            loss pushes each point (autograd of G's batch loss w.r.t. the points)
        trace               step, d_loss, g_loss, modes (NaN for shapes without modes), quality
        modes, n_modes, quality, counts, mode_covered   the coverage now (None without modes)
        """
        with self._lock, one_thread():
            cfg, toy = self.cfg, self.toy
            with torch.no_grad():
                fake_eval = self.G(self.z_eval)
                lo, hi = toy.extent
                axis = torch.linspace(lo, hi, self.GRID)
                gy, gx = torch.meshgrid(axis, axis, indexing="ij")
                out = self.D(torch.stack([gx.flatten(), gy.flatten()], 1)).view(self.GRID, self.GRID)
                if self.loss.bce:
                    out = torch.sigmoid(out)
            x = fake_eval[: self.N_ARROWS].clone().requires_grad_(True)
            for p in self.d_params:
                p.requires_grad_(False)
            try:
                (grad,) = torch.autograd.grad(self.loss.g_loss(self.D(x)), x)
            finally:
                for p in self.d_params:
                    p.requires_grad_(True)
            cov, quality = self._quality(fake_eval)
            return {
                "step": self.steps, "config": cfg.to_dict(), "diverged": self.diverged,
                "distribution": cfg.distribution, "loss": cfg.loss, "d_is_prob": self.loss.bce,
                "extent": toy.extent, "radius": toy.radius,
                "centres": None if toy.centres is None else toy.centres.copy(),
                "real": self.real_show.numpy().copy(), "fake": fake_eval[: self.N_SHOW].numpy().copy(),
                "grid_x": axis.numpy().copy(), "grid_y": axis.numpy().copy(), "d_grid": out.numpy().copy(),
                "arrow_from": x.detach().numpy().copy(), "arrows": (-grad).numpy().copy(),
                "modes": cov.covered if cov else None, "n_modes": cov.n_modes if cov else 0,
                "counts": cov.counts.copy() if cov else None, "quality": quality,
                "mode_covered": cov.counts >= cov.threshold if cov else None,
                "trace": {k: np.asarray(v, dtype=np.float64) for k, v in self.trace.items()},
            }

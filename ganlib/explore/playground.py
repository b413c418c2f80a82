"""The 2-D playground: a tiny GAN on toy point clouds that a student can watch learn (GAN Lab style).

    pg = Playground(PlaygroundConfig(distribution="ring", loss="nonsaturating"))
    pg.step(200)                      # 200 training steps on the CPU, a fraction of a second
    snap = pg.snapshot()              # plain numpy: points, D's heatmap, G's gradient arrows, traces
    modes_covered(snap["fake"], TOYS.get("ring").centres, radius=0.3, min_count=0.01).covered

    runner = PlaygroundRunner()       # the same, trained by a daemon thread (one per browser session)
    runner.play(); runner.speed = 20; runner.pause(); runner.step(); runner.reset(); runner.close()

G maps 2-d (or 8-d) Gaussian noise to the plane and D maps a point to one number; both are
small MLPs trained with the engine's losses (`ganlib.losses.LOSSES`) and the stabilisers that
mean something in 2-D: n_critic, the WGAN-GP gradient penalty, R1, WGAN weight clipping and
instance noise. One playground step is n_critic D updates, then one G update.

Nothing here touches torch's global RNG: the weights, the noise and the penalty's interpolation
all draw from the playground's own `torch.Generator`, because the dashboard may be training a
job in the same process, and a shifted global random stream would change that job's run.
The runner's thread never calls Streamlit: it trains under the playground's lock and pages
poll `snapshot()`, which copies everything out under that lock.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import torch
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.losses import LOSSES
from ganlib.losses.penalties import r1_penalty
from ganlib.core.registry import Registry
from ganlib.engine.update_rules.common import make_optimizer
from ganlib.core.threads import set_threads_here, torch_threads

CPU = torch.device("cpu")


# ---- one torch thread for tiny tensors -----------------------------------------------------
def one_thread():
    """A 256 x 64 matmul gains nothing from a second thread, and on 2 busy cores (a training
    job, the server) its spinning OpenMP workers made a step about 20 times slower."""
    return torch_threads(1)


# ---- toy distributions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Toy:
    """A 2-D distribution: `sample(n, gen)` returns an (n, 2) float tensor."""

    sample: Callable[[int, torch.Generator], torch.Tensor]
    description: str
    std: float  # the noise around each mode (or around the curve)
    centres: Optional[np.ndarray] = None  # (M, 2) mode centres; None for a continuous shape
    extent: tuple[float, float] = (-3.0, 3.0)  # the square the page draws

    @property
    def radius(self) -> float:
        """A point within 3 std of a mode (or of the data) counts as a "high quality" sample."""
        return 3.0 * self.std


TOYS: Registry[Toy] = Registry("distribution")


def _mixture(centres: np.ndarray, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    c = torch.as_tensor(centres, dtype=torch.float32)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, len(c), (n,), generator=gen)
        return c[idx] + std * torch.randn(n, 2, generator=gen)

    return sample


def _ring_centres(k: int = 8, r: float = 2.0) -> np.ndarray:
    a = 2 * np.pi * np.arange(k) / k
    return np.stack([r * np.cos(a), r * np.sin(a)], 1)


def _grid_centres(k: int = 5, spacing: float = 1.0) -> np.ndarray:
    v = (np.arange(k) - (k - 1) / 2) * spacing
    return np.stack(np.meshgrid(v, v), -1).reshape(-1, 2)


MOONS_STD, SPIRAL_STD = 0.06, 0.06


def _moons(n: int, gen: torch.Generator) -> torch.Tensor:
    """Two interleaved half circles (scikit-learn's make_moons), centred and scaled by 1.6."""
    theta = math.pi * torch.rand(n, generator=gen)
    lower = torch.rand(n, generator=gen) < 0.5
    x = torch.where(lower, 1 - torch.cos(theta), torch.cos(theta))
    y = torch.where(lower, 0.5 - torch.sin(theta), torch.sin(theta))
    pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.6
    return pts + MOONS_STD * torch.randn(n, 2, generator=gen)


def _spiral(n: int, gen: torch.Generator) -> torch.Tensor:
    """One arm turning 1.75 times, radius 0.3 to 2.5, points spread evenly along its length."""
    t = torch.sqrt(torch.rand(n, generator=gen))
    theta, r = 3.5 * math.pi * t, 0.3 + 2.2 * t
    pts = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1)
    return pts + SPIRAL_STD * torch.randn(n, 2, generator=gen)


RING_STD, GRID_STD = 0.1, 0.05
TOYS.add("ring", Toy(_mixture(_ring_centres(), RING_STD), "8 Gaussians on a circle of radius 2",
                     RING_STD, _ring_centres()))
TOYS.add("grid", Toy(_mixture(_grid_centres(), GRID_STD), "25 Gaussians on a 5 x 5 grid, spacing 1",
                     GRID_STD, _grid_centres()))
TOYS.add("moons", Toy(_moons, "Two interleaved half moons (no separate modes)", MOONS_STD))
TOYS.add("spiral", Toy(_spiral, "A spiral arm (no separate modes)", SPIRAL_STD))


# ---- mode counting -------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    covered: int  # modes with at least the minimum number of points near them
    n_modes: int
    counts: np.ndarray  # (M,) points within the radius of each mode
    high_quality: float  # share of all points within the radius of some mode
    threshold: int  # the minimum count that was applied


def modes_covered(points: Any, centres: Any, radius: float, min_count: int | float = 0.01) -> Coverage:
    """Count the modes the points cover: a mode is covered when at least `min_count` points lie
    within `radius` of its centre. An int `min_count` is a number of points; a float below 1 is
    a share of all points (0.01: 1 %, at least one point). Mode collapse shows as `covered`
    falling while `high_quality` (the share of points near some mode) stays high."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    c = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    if isinstance(min_count, float) and 0 < min_count < 1:
        threshold = max(1, math.ceil(min_count * len(pts)))
    elif min_count >= 1:
        threshold = int(min_count)
    else:
        raise ValueError(f"min_count must be a count >= 1 or a share in (0, 1), got {min_count}")
    if len(pts) == 0 or len(c) == 0:
        return Coverage(0, len(c), np.zeros(len(c), dtype=np.int64), 0.0, threshold)
    d2 = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(-1)  # (N, M)
    near = d2 <= radius ** 2
    counts = near.sum(0).astype(np.int64)
    return Coverage(int((counts >= threshold).sum()), len(c), counts, float(near.any(1).mean()), threshold)


def near_data_share(points: Any, reference: Any, radius: float) -> float:
    """The share of points within `radius` of some reference data point: the "high quality"
    share for a shape without separate modes (moons, spiral)."""
    pts = torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2)
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32)).reshape(-1, 2)
    if len(pts) == 0 or len(ref) == 0:
        return 0.0
    return float((torch.cdist(pts, ref).min(1).values <= radius).float().mean())


# ---- configuration -------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaygroundConfig:
    distribution: str = "ring"  # a name from TOYS
    loss: str = "nonsaturating"  # a name from ganlib.losses.LOSSES
    noise_dim: int = 2  # G's input noise: 2 (the plane is warped, as in GAN Lab) or 8
    hidden: int = 64  # width of every hidden layer of G and D
    layers: int = 2  # hidden layers in G and in D
    batch_size: int = 256  # real and generated points per update
    lr_g: float = 1e-3  # G's Adam learning rate
    lr_d: float = 1e-3  # D's Adam learning rate
    beta1: float = 0.5  # Adam beta1 for both
    beta2: float = 0.99  # Adam beta2 for both
    n_critic: int = 1  # D updates per step; each step then makes one G update
    gradient_penalty: bool = False  # add the WGAN-GP penalty (always on for wgan_gp)
    gp_weight: float = 0.1  # its weight lambda (small in 2-D: the plane is small)
    r1_gamma: float = 0.0  # R1 penalty on D's gradient at real points, gamma (0 = off)
    clip_value: float = 0.1  # wgan: D's weights are clipped to [-c, c] after each D update
    instance_noise: float = 0.0  # std of the Gaussian noise added to every point D sees (0 = off)
    seed: int = 0  # weights, noise and the drawn real points

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

    @property
    def uses_gp(self) -> bool:
        return LOSSES.get(self.loss).needs_gp or self.gradient_penalty


# Settings a playground takes while it trains; changing any other field rebuilds it.
LIVE_FIELDS = ("lr_g", "lr_d", "beta1", "beta2", "n_critic", "gradient_penalty", "gp_weight", "r1_gamma",
               "clip_value", "instance_noise", "batch_size")


# ---- the networks --------------------------------------------------------------------------
def _mlp(sizes: list[int], act: Callable[[], nn.Module], gen: torch.Generator) -> nn.Sequential:
    """Linear layers initialised like nn.Linear's default, but from `gen` (skip_init leaves the
    global RNG alone)."""
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.utils.skip_init(nn.Linear, a, b)
        nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=gen)
        nn.init.uniform_(lin.bias, -1 / math.sqrt(a), 1 / math.sqrt(a), generator=gen)
        mods.append(lin)
        if i < len(sizes) - 2:
            mods.append(act())
    return nn.Sequential(*mods)


class ToyGenerator(nn.Module):
    """noise (N, noise_dim) -> points (N, 2); ReLU hidden layers, a linear output."""

    def __init__(self, noise_dim: int, hidden: int, layers: int, gen: torch.Generator):
        super().__init__()
        self.net = _mlp([noise_dim] + [hidden] * layers + [2], nn.ReLU, gen)

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """points (N, 2) -> (N,) logits (BCE losses) or critic scores; LeakyReLU 0.2 hidden layers.
    Takes `labels` and ignores it, like every D in ganlib, so the engine's penalties apply."""

    def __init__(self, hidden: int, layers: int, gen: torch.Generator):
        super().__init__()
        self.net = _mlp([2] + [hidden] * layers + [1], lambda: nn.LeakyReLU(0.2), gen)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(x).squeeze(1)


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`ganlib.losses.gradient_penalty` with its interpolation drawn from `gen`, not the global RNG."""
    eps = torch.rand(real.shape[0], 1, generator=gen)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return (grad.norm(dim=1) - 1).pow(2).mean()


# ---- the playground ------------------------------------------------------------------------
class Diverged(RuntimeError):
    """The losses became NaN or infinite."""


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
            self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
            self.opt_g = make_optimizer(self.g_params, cfg.lr_g, (cfg.beta1, cfg.beta2), CPU)
            self.opt_d = make_optimizer(self.d_params, cfg.lr_d, (cfg.beta1, cfg.beta2), CPU)
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
            if any(getattr(cfg, f.name) != getattr(self.cfg, f.name)
                   for f in dataclasses.fields(cfg) if f.name not in LIVE_FIELDS):
                self.reset(cfg)
                return True
            for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
                for group in opt.param_groups:
                    group["lr"], group["betas"] = lr, (cfg.beta1, cfg.beta2)
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
                    self._train_step()
        return self.steps

    # ---- training ----------------------------------------------------------------------
    def _d_input(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees in training: the points, blurred by instance noise when it is on."""
        if self.cfg.instance_noise > 0:
            x = x + self.cfg.instance_noise * torch.randn(x.shape, generator=self.gen)
        return x

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.noise_dim, generator=self.gen)

    def _train_step(self) -> None:
        cfg, B = self.cfg, self.cfg.batch_size
        for _ in range(cfg.n_critic):
            real = self.toy.sample(B, self.gen)
            with torch.no_grad():
                fake = self.G(self._noise(B))
            real_in, fake_in = self._d_input(real), self._d_input(fake)
            loss_d = self.loss.d_loss(self.D(real_in), self.D(fake_in))
            penalty = torch.zeros(())
            if cfg.uses_gp:
                penalty = penalty + cfg.gp_weight * gradient_penalty(self.D, real_in, fake_in, self.gen)
            if cfg.r1_gamma > 0:
                penalty = penalty + 0.5 * cfg.r1_gamma * r1_penalty(self.D, real_in, None)
            self.opt_d.zero_grad(set_to_none=True)
            (loss_d + penalty).backward()
            self.opt_d.step()
            if self.loss.clip:
                with torch.no_grad():
                    for p in self.d_params:
                        p.clamp_(-cfg.clip_value, cfg.clip_value)

        for p in self.d_params:  # G's update needs no gradients for D's weights
            p.requires_grad_(False)
        try:
            loss_g = self.loss.g_loss(self.D(self._d_input(self.G(self._noise(B)))))
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        finally:
            for p in self.d_params:
                p.requires_grad_(True)

        d, g = loss_d.item(), loss_g.item()  # CPU tensors: reading them costs nothing
        self.steps += 1
        if not (math.isfinite(d) and math.isfinite(g)):
            self.diverged = True
        self._sums[0] += d
        self._sums[1] += g
        self._sums[2] += 1
        if self.steps % self.trace_every == 0 or self.diverged:
            self._record()

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


# ---- the background runner -----------------------------------------------------------------
class _Control:
    """What the runner and its thread share; the thread holds this, never the runner, so that a
    runner dropped with its session is garbage collected and its finalizer stops the thread."""

    def __init__(self, speed: int):
        self.running = threading.Event()  # set = playing; cleared = parked
        self.stop = threading.Event()
        self.speed = speed
        self.error: Optional[str] = None
        self.last_seen = time.monotonic()
        self.steps_per_s = 0.0


def _shutdown(ctl: _Control) -> None:
    ctl.stop.set()
    ctl.running.set()  # wake a parked thread so that it sees the stop


def _loop(pg: Playground, ctl: _Control, stop: threading.Event, tick_s: float, idle_pause_s: float) -> None:
    """The worker: `speed` steps per tick while playing. Pauses itself when the losses diverge,
    on an error, and when nobody has looked at a snapshot for `idle_pause_s` (a closed tab)."""
    set_threads_here(1)
    while not stop.is_set():
        if not ctl.running.wait(timeout=0.5) or stop.is_set():
            continue
        if time.monotonic() - ctl.last_seen > idle_pause_s:
            ctl.running.clear()
            continue
        t0 = time.monotonic()
        before = pg.steps
        try:
            pg.step(ctl.speed, should_stop=lambda: stop.is_set() or not ctl.running.is_set())
        except Exception as e:  # noqa: BLE001 - shown on the page, the thread lives on
            ctl.error = f"{type(e).__name__}: {e}"
            ctl.running.clear()
            continue
        if pg.diverged:
            ctl.error = (f"the losses became NaN or infinite at step {pg.steps}: lower the learning rates "
                         "or add a penalty, then Reset")
            ctl.running.clear()
        dt = time.monotonic() - t0
        if dt > 0 and pg.steps > before:
            ctl.steps_per_s = 0.8 * ctl.steps_per_s + 0.2 * (pg.steps - before) / dt if ctl.steps_per_s else \
                (pg.steps - before) / dt
        stop.wait(max(0.0, tick_s - dt))


class PlaygroundRunner:
    """A Playground trained by a daemon thread: play, pause, step, reset, speed (steps per tick).
    Keep one per browser session (`st.session_state`); `close()` ends the thread, and so does
    garbage collection of the runner when its session ends."""

    def __init__(self, cfg: Optional[PlaygroundConfig] = None, speed: int = 10, tick_s: float = 0.05,
                 idle_pause_s: float = 60.0):
        self.playground = Playground(cfg)
        self.tick_s, self.idle_pause_s = tick_s, idle_pause_s
        self._ctl = _Control(max(1, int(speed)))
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._finalizer = weakref.finalize(self, _shutdown, self._ctl)

    @property
    def cfg(self) -> PlaygroundConfig:
        return self.playground.cfg

    @property
    def speed(self) -> int:
        return self._ctl.speed

    @speed.setter
    def speed(self, value: int) -> None:
        self._ctl.speed = max(1, int(value))

    @property
    def playing(self) -> bool:
        return self._ctl.running.is_set() and self._thread is not None and self._thread.is_alive()

    @property
    def error(self) -> Optional[str]:
        return self._ctl.error

    @property
    def thread(self) -> Optional[threading.Thread]:
        return self._thread

    def play(self) -> None:
        if self.playground.diverged:
            return
        self._ctl.error = None
        self._ctl.last_seen = time.monotonic()
        if self._thread is None or not self._thread.is_alive():
            self._stop = threading.Event()
            self._ctl.stop = self._stop
            self._thread = threading.Thread(target=_loop, name="ganlib-playground", daemon=True,
                                            args=(self.playground, self._ctl, self._stop, self.tick_s,
                                                  self.idle_pause_s))
            self._thread.start()
        self._ctl.running.set()

    def pause(self) -> None:
        self._ctl.running.clear()

    def step(self, n: Optional[int] = None) -> int:
        """Pause, then train `n` steps (default: one tick, `speed` steps) here and now."""
        self.pause()
        return self.playground.step(self.speed if n is None else n)

    def reset(self, cfg: Optional[PlaygroundConfig] = None) -> None:
        """Stop the thread and start over with fresh weights (and `cfg` if given); paused."""
        self.close()
        self._ctl.error = None
        self._ctl.steps_per_s = 0.0
        self.playground.reset(cfg)

    def configure(self, cfg: PlaygroundConfig) -> bool:
        """Live settings apply while playing; any other change resets (paused). True on reset."""
        if cfg == self.cfg:
            return False
        live = all(getattr(cfg, f.name) == getattr(self.cfg, f.name)
                   for f in dataclasses.fields(cfg) if f.name not in LIVE_FIELDS)
        if live:
            return self.playground.configure(cfg)
        self.reset(cfg)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop and join the thread (it ends within one training step)."""
        self._ctl.running.clear()
        self._stop.set()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            self._ctl.running.set()  # wake it from its park so that it sees the stop
            t.join(timeout)
        self._ctl.running.clear()
        self._thread = None

    def traces(self) -> dict[str, Any]:
        self._ctl.last_seen = time.monotonic()
        return self.playground.traces()

    def snapshot(self) -> dict[str, Any]:
        """The playground's snapshot plus playing, speed, steps_per_s and error. Reading it also
        tells the thread somebody is watching (it pauses itself after idle_pause_s unwatched)."""
        self._ctl.last_seen = time.monotonic()
        snap = self.playground.snapshot()
        snap.update(playing=self.playing, speed=self.speed, error=self._ctl.error,
                    steps_per_s=self._ctl.steps_per_s if self.playing else 0.0)
        return snap

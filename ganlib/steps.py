"""The update rules of one batch: a GAN (any loss, penalty and stabiliser) or a VAE.

A step object owns the models and optimizers and sums its statistics into device tensors;
`epoch_means()` reads them back once per epoch. Nothing here calls `.item()`: a host sync
per step would stall the GPU queue.

Speed options (`precision`, `compile`) change how the forward passes run, never what is
trained or saved: the forward passes go through `g_fwd` / `d_fwd` (the modules themselves, or
their torch.compile wrappers), while `G` and `D` stay the plain modules that the optimizers,
the EMA, the sampler and the checkpoints use.
"""
from __future__ import annotations

import copy
from typing import Callable, Optional

import torch
from torch import nn

from ganlib.config import TrainConfig, diffaugment_policies
from ganlib.diffaugment import diff_augment
from ganlib.losses import LOSSES, gradient_penalty, r1_penalty


COMPILE_BACKEND = "inductor"  # tests use "aot_eager": inductor needs minutes of compiling on a small CPU
TORCH_COMPILE_MODE = {"compile": "default", "cuda_graphs": "reduce-overhead"}  # config name -> torch's mode


def compiled(fn: Callable, mode: str) -> Callable:
    """`fn` through torch.compile (compiled lazily, at its first call), or `fn` itself when off.
    Shapes never change within a run (the engine drops the last partial batch), so dynamic
    shapes are off: no recompiles, no symbolic-shape guards."""
    if mode == "off":
        return fn
    # Each config of a model class (dtype, layout, D frozen or not, mode) is one more cache entry on
    # its forward: a dashboard process that trains many runs would pass dynamo's default limit of 8,
    # after which dynamo silently runs eager.
    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
    if COMPILE_BACKEND != "inductor":  # only inductor takes a mode
        return torch.compile(fn, backend=COMPILE_BACKEND, dynamic=False)
    return torch.compile(fn, mode=TORCH_COMPILE_MODE[mode], dynamic=False)


def match_layout(opt: torch.optim.Optimizer) -> None:
    """Give loaded optimizer state its parameter's memory layout. A checkpoint holds contiguous
    tensors; fused Adam walks a channels-last parameter and a contiguous exp_avg element by
    element in memory order, which silently pairs the wrong elements."""
    for p, state in opt.state.items():
        for k, v in state.items():
            if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                state[k] = torch.empty_like(p).copy_(v)


def make_optimizer(params, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # device or build without fused Adam
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=device.type != "cpu")


def grad_norm(params: list[nn.Parameter]) -> torch.Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


class EMA:
    """Exponential moving average of G's weights (Karras et al.): smoother samples than the
    raw weights. Updated with one fused lerp per G step; buffers (BatchNorm statistics) are
    copied when the EMA model is used."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.src = model
        self.params = list(self.model.parameters())
        self.src_params = list(model.parameters())

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.params, self.src_params, 1.0 - self.decay)

    @torch.no_grad()
    def synced(self) -> nn.Module:
        for b, sb in zip(self.model.buffers(), self.src.buffers()):
            b.copy_(sb)
        return self.model


class Steps:
    """What the engine needs from a model family."""

    G: nn.Module
    cfg: TrainConfig
    device: torch.device
    stat_names: tuple[str, ...]

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def models(self) -> dict[str, Optional[nn.Module]]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def batch(self, x: torch.Tensor, y: Optional[torch.Tensor], i: int, progress: float) -> None:
        raise NotImplementedError

    def epoch_means(self) -> dict[str, float]:
        raise NotImplementedError

    def compile(self, mode: str) -> None:
        """Route the training forward passes through torch.compile (`mode` "off" undoes it)."""
        raise NotImplementedError

    def sampler(self) -> nn.Module:
        """The network to draw samples and metrics from (the EMA copy when there is one)."""
        return self.ema.synced() if getattr(self, "ema", None) else self.G

    def begin_step(self) -> None:
        """With CUDA graphs, tell torch.compile's graph trees that a new step starts, so they may
        reuse the previous step's output memory. Their own guess (all backwards run) fails on a
        critic-only step, whose generator pass never gets a backward."""
        if self.cfg.compile == "cuda_graphs":
            torch.compiler.cudagraph_mark_step_begin()

    def autocast(self) -> torch.autocast:
        """bfloat16 autocast for forward passes with precision bf16: matmuls and convolutions
        run in bf16, weights and their gradients stay float32 (autocast casts on the fly)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")


class GANSteps(Steps):
    D_STATS = ("d_loss", "d_real", "d_fake", "grad_norm_d", "penalty")
    G_STATS = ("g_loss", "grad_norm_g")
    stat_names = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_g", "grad_norm_d", "penalty")

    def __init__(self, cfg: TrainConfig, G: nn.Module, D: nn.Module, num_classes: int, conditional: bool,
                 device: torch.device):
        self.cfg, self.G, self.D, self.device = cfg, G, D, device
        self.num_classes, self.conditional = num_classes, conditional
        self.loss = LOSSES.get(cfg.loss)
        self.g_params, self.d_params = list(G.parameters()), list(D.parameters())
        self.opt_g = make_optimizer(self.g_params, cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.opt_d = make_optimizer(self.d_params, cfg.lr_d, (cfg.beta1, cfg.beta2), device)
        self.ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.policies = diffaugment_policies(cfg.diffaugment)
        self.use_gp = self.loss.needs_gp or cfg.gradient_penalty
        self.compile(cfg.compile)
        self.reset()

    def compile(self, mode: str) -> None:
        self.g_fwd, self.d_fwd = compiled(self.G, mode), compiled(self.D, mode)

    def optimizers(self):
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def models(self):
        return {"G": self.G, "D": self.D, "G_ema": self.ema.model if self.ema else None}

    def reset(self) -> None:
        self.d_sums = torch.zeros(len(self.D_STATS), device=self.device)
        self.g_sums = torch.zeros(len(self.G_STATS), device=self.device)
        self.d_steps = self.g_steps = 0

    def d_input(self, x: torch.Tensor, progress: float) -> torch.Tensor:
        """What D sees: DiffAugment, then instance noise decaying linearly to 0 over the run."""
        if self.policies:
            x = diff_augment(x, self.policies)
        if self.cfg.instance_noise > 0:
            x = x + torch.randn_like(x) * (self.cfg.instance_noise * max(0.0, 1.0 - progress))
        return x

    def batch(self, x, y, i, progress) -> None:
        """One D update; every n_critic-th batch also one G update. With n_critic 1, G's step
        reuses the D step's fakes (seed 000's order) and saves a generator pass.

        D's outputs are cast to float32 before the losses. The penalties call the plain D, not
        `d_fwd`: their double backward goes through D's backward, which a compiled D cannot
        differentiate again. They do run under bf16 autocast, whose double backward works."""
        self.begin_step()
        cfg, B = self.cfg, x.shape[0]
        z = torch.randn(B, cfg.latent_dim, device=self.device)
        y_fake = torch.randint(0, self.num_classes, (B,), device=self.device) if self.conditional else None
        with self.autocast():
            fake = self.g_fwd(z, y_fake)
            real_in, fake_in = self.d_input(x, progress), self.d_input(fake.detach(), progress)
            d_real, d_fake = self.d_fwd(real_in, y).float(), self.d_fwd(fake_in, y_fake).float()
            penalty = torch.zeros((), device=self.device)
            if self.use_gp:
                penalty = penalty + cfg.gp_weight * gradient_penalty(self.D, real_in, fake_in, y)
            if cfg.r1_gamma > 0:
                penalty = penalty + 0.5 * cfg.r1_gamma * r1_penalty(self.D, real_in, y)
        loss_d = self.loss.d_loss(d_real, d_fake, cfg.label_smoothing)
        self.opt_d.zero_grad(set_to_none=True)
        (loss_d + penalty).backward()
        gn_d = grad_norm(self.d_params)
        self.opt_d.step()
        if self.loss.clip:
            with torch.no_grad():
                torch._foreach_clamp_min_(self.d_params, -cfg.clip_value)
                torch._foreach_clamp_max_(self.d_params, cfg.clip_value)
        with torch.no_grad():
            to_p = torch.sigmoid if self.loss.bce else (lambda t: t)  # probability, or critic score
            self.d_sums += torch.stack([loss_d.detach(), to_p(d_real).mean(), to_p(d_fake).mean(),
                                        gn_d.to(self.device), penalty.detach()]).float()
        self.d_steps += 1

        if (i + 1) % cfg.n_critic:
            return
        for p in self.d_params:  # G's step needs no gradients for D's weights
            p.requires_grad_(False)
        with self.autocast():
            if cfg.n_critic > 1:  # fresh fakes: the ones above trained D n_critic steps ago
                z = torch.randn(B, cfg.latent_dim, device=self.device)
                fake = self.g_fwd(z, y_fake)
            d_out = self.d_fwd(self.d_input(fake, progress), y_fake).float()
        loss_g = self.loss.g_loss(d_out)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        gn_g = grad_norm(self.g_params)
        self.opt_g.step()
        for p in self.d_params:
            p.requires_grad_(True)
        if self.ema:
            self.ema.update()
        with torch.no_grad():
            self.g_sums += torch.stack([loss_g.detach(), gn_g.to(self.device)]).float()
        self.g_steps += 1

    def epoch_means(self) -> dict[str, float]:
        d = (self.d_sums / max(1, self.d_steps)).tolist()  # the epoch's one host sync (two tiny reads)
        g = (self.g_sums / max(1, self.g_steps)).tolist()
        means = {**dict(zip(self.D_STATS, d)), **dict(zip(self.G_STATS, g))}
        return {k: means[k] for k in self.stat_names}


class VAESteps(Steps):
    stat_names = ("neg_elbo", "recon", "kl", "grad_norm_g")

    def __init__(self, cfg: TrainConfig, G: nn.Module, device: torch.device):
        self.cfg, self.G, self.device = cfg, G, device
        self.params = list(G.parameters())
        self.opt_g = make_optimizer(self.params, cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.ema = EMA(G, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.compile(cfg.compile)
        self.reset()

    def compile(self, mode: str) -> None:
        self.loss_terms = compiled(self.G.loss_terms, mode)

    def optimizers(self):
        return {"opt_g": self.opt_g}

    def models(self):
        return {"G": self.G, "G_ema": self.ema.model if self.ema else None}

    def reset(self) -> None:
        self.sums = torch.zeros(len(self.stat_names), device=self.device)
        self.n = 0

    def batch(self, x, y, i, progress) -> None:
        self.begin_step()
        with self.autocast():
            recon, kl = self.loss_terms(x)  # float32 even under autocast (VAEBase.loss_terms)
        loss = recon + kl
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        gn = grad_norm(self.params)
        self.opt_g.step()
        if self.ema:
            self.ema.update()
        with torch.no_grad():
            self.sums += torch.stack([loss.detach(), recon.detach(), kl.detach(), gn.to(self.device)]).float()
        self.n += 1

    def epoch_means(self) -> dict[str, float]:
        return dict(zip(self.stat_names, (self.sums / max(1, self.n)).tolist()))

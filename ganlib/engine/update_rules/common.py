"""What every update rule shares: fused Adam, gradient norms, the EMA of G, torch.compile
wrappers and optimizer-state layout fixes."""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn

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


def step_generator(opt_g: torch.optim.Optimizer, loss_g: torch.Tensor, g_params: list[nn.Parameter],
                   d_params: list[nn.Parameter]) -> torch.Tensor:
    """G's update, after D's: backward, G's gradient norm, the step, and D's parameters trainable
    again (a rule freezes them while G's loss runs through D). Returns the norm (on the device)."""
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    norm = grad_norm(g_params)
    opt_g.step()
    for p in d_params:
        p.requires_grad_(True)
    return norm


class GeneratorAndCritic:
    """What a rule with a G and a D, each with its own Adam, shares (a GAN and a translator): the
    optimizers, their names in a checkpoint, and the compiled forward passes."""

    def make_optimizers(self, cfg, device: torch.device) -> None:
        self.g_params, self.d_params = list(self.G.parameters()), list(self.D.parameters())
        self.opt_g = make_optimizer(self.g_params, cfg.lr_g, (cfg.beta1, cfg.beta2), device)
        self.opt_d = make_optimizer(self.d_params, cfg.lr_d, (cfg.beta1, cfg.beta2), device)

    def compile(self, mode: str) -> None:
        self.g_fwd, self.d_fwd = compiled(self.G, mode), compiled(self.D, mode)

    def optimizers(self):
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

"""How the shipped classifier extractors are trained and written (the digit CNN's and the emoji
CNN's scripts share it): Adam with a one-cycle schedule over augmented batches, the feature
standardisation fixed on the training images afterwards, and the safetensors file with a JSON
beside it that says how it was made.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from ganlib.metrics.frechet import fid_from_features


def random_affine(x: torch.Tensor, g: torch.Generator, max_deg: float, max_shift_px: float, max_scale: float,
                  padding_mode: str = "zeros") -> torch.Tensor:
    """Random rotation, shift and scale per image; with "zeros", what comes in from outside is
    -1 (black), with "border" the edge pixels (an emoji's plain ground)."""
    n = x.shape[0]
    u = lambda: torch.rand(n, generator=g) * 2 - 1  # noqa: E731 - uniform in [-1, 1]
    angle = u() * math.radians(max_deg)
    scale = 1 + u() * max_scale
    shift = max_shift_px * 2 / x.shape[-1]  # pixels -> normalized coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, u() * shift], 1),
                         torch.stack([sin, cos, u() * shift], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False) - 1


@torch.no_grad()
def set_standardisation(net: nn.Module, x: torch.Tensor) -> None:
    """Fix the feature standardisation to the mean and std (N-1) of `x`'s pre-activations."""
    net.eval()
    pre = torch.cat([net.pre_activation(p) for p in x.split(1000)]).double()
    net.standardise.mean.copy_(pre.mean(0))
    net.standardise.std.copy_(pre.std(0).clamp_min(1e-6))  # a dead unit would divide by 0


@torch.no_grad()
def heldout_fid(net: nn.Module, x_train: torch.Tensor, x_test: torch.Tensor) -> float:
    """FID of the held-out images against the training images in the standardised features:
    where the scale starts for real data (about 0 up to its N-bias)."""
    net.eval()
    feats = [torch.cat([net.features_and_logits(p)[0] for p in x.split(1000)]) for x in (x_train, x_test)]
    return fid_from_features(*feats)


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    return (torch.cat([net(p) for p in x.split(1000)]).argmax(1) == y).float().mean().item()


def fit_one_cycle(net: nn.Module, x: torch.Tensor, y: torch.Tensor, augment: Callable[[torch.Tensor], torch.Tensor],
                  g: torch.Generator, *, epochs: int, batch_size: int, lr: float, weight_decay: float = 1e-4,
                  test: Optional[Callable[[], float]] = None, log=print) -> float:
    """Cross-entropy on `augment(x[batch])` (x may carry one more leading dimension of versions
    that `augment` picks from: backgrounds, sizes), Adam with a one-cycle schedule; returns the
    seconds it took."""
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(y) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(y), generator=g)
        total = 0.0
        for i in range(0, len(order), batch_size):
            b = order[i:i + batch_size]
            loss = F.cross_entropy(net(augment(x[b])), y[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        acc = f"  test acc {test():.4f}" if test is not None else ""
        log(f"epoch {epoch + 1:2d}/{epochs}  loss {total / len(y):.4f}{acc}  ({time.time() - t0:.0f} s)")
    return time.time() - t0


def indices_digest(idx: torch.Tensor) -> str:
    return hashlib.sha256(",".join(map(str, idx.tolist())).encode()).hexdigest()


def write_weights(net: nn.Module, info: dict[str, Any], out: Path, stem: str, command: str,
                  dtype: Optional[torch.dtype] = None) -> Path:
    """`stem.safetensors` (float tensors in `dtype` when given) and `stem.json` (`info` plus the
    file's size and digest, the date and the command) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{stem}.safetensors"
    state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
             for k, v in net.state_dict().items()}
    save_file(state, str(weights), metadata={k: str(info[k]) for k in ("seed", "test_accuracy") if k in info})
    info.update(weights_file=weights.name, weights_bytes=weights.stat().st_size,
                weights_sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
                date=datetime.date.today().isoformat(), command=command)
    (out / f"{stem}.json").write_text(json.dumps(info, indent=2) + "\n")
    return weights

"""Will this config fit? An estimate of the memory a run needs on its device (the models with
their gradients, Adam state, EMA and in-memory snapshot; one batch's activations; the
resident data, uint8), checked before the run folder exists. Data that does not fit beside the
rest streams from host memory (`data.streaming`); a run whose models and one batch cannot fit is
a one-line refusal instead of an allocator traceback or the kernel's OOM killer.

    need = estimate(cfg, n_images=5000, num_classes=10)
    resident = check_fits(cfg, device, n_images=5000, num_classes=10)   # False: stream; ConfigError: refused

$GANLIB_MEMORY_LIMIT (bytes, or with K/M/G) caps what the check takes as free: a way to try
streaming (or a refusal) on a small dataset, and to keep a run below a share of a shared machine.

The models are built on torch's meta device (shapes only, no memory) and one batch is pushed
through them there, so the estimate itself allocates nothing.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Optional

import torch

from ganlib.core.devices import available_bytes
from ganlib.core.errors import BadValue, ConfigError
from ganlib.models import MODELS, build_models
from ganlib.store.config import TrainConfig

# Per parameter: weights, gradients and Adam's two moments (16 bytes), the snapshot kept for the
# next checkpoint (16 more), and the EMA copy of G's weights where there is one.
BYTES_PER_PARAM = 32
# Each activation is kept for the backward pass and gets a gradient of its own; D runs on the
# real and the fake batch.
ACTIVATION_FACTOR = 3
HEADROOM = 0.9  # of the memory said to be available
STREAM_BATCHES = 8  # uint8 batches a streamed run holds at once: the prefetch queue, the one in use, copies


@dataclass
class Estimate:
    models: int
    activations: int
    data: int

    @property
    def total(self) -> int:
        return self.models + self.activations + self.data

    def culprit(self, cfg: TrainConfig) -> str:
        """The field to name in a refusal: the one driving the largest part."""
        part = max(("data", self.data), ("activations", self.activations), ("models", self.models),
                   key=lambda kv: kv[1])[0]
        if part == "data":
            return "max_images" if cfg.max_images else "image_size"
        if part == "activations":
            return "batch_size"
        return "latent_dim" if cfg.latent_dim > 256 else "image_size"


def estimate(cfg: TrainConfig, n_images: int, num_classes: int, pixel_bytes: Optional[int] = None) -> Estimate:
    """`pixel_bytes`: the data's uint8 pixels as loaded (default: n_images at the run's channels and size)."""
    with torch.device("meta"):
        G, D = build_models(cfg, max(1, num_classes))
        nets = [m for m in (G, D) if m is not None]
        params = sum(p.numel() for m in nets for p in m.parameters())
        if cfg.ema_decay > 0:
            params += sum(p.numel() for p in G.parameters()) // 2
        acts = _activation_numel(cfg, G, D, num_classes)
    data = pixel_bytes if pixel_bytes is not None else n_images * cfg.channels * cfg.image_size ** 2
    data += n_images * 8  # the labels (int64), always on the device
    return Estimate(params * BYTES_PER_PARAM, acts * 4 * ACTIVATION_FACTOR, data)


def _activation_numel(cfg: TrainConfig, G, D, num_classes: int) -> int:
    """Elements of every module output for one batch through G and D, counted on meta tensors."""
    total = 0

    def count(_m, _inp, out):
        nonlocal total
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                total += t.numel()

    hooks = [m.register_forward_hook(count) for net in (G, D) if net is not None
             for m in net.modules() if not list(m.children())]
    try:
        z = torch.randn(cfg.batch_size, cfg.latent_dim)
        labels = torch.zeros(cfg.batch_size, dtype=torch.long) if MODELS.get(cfg.model).conditional else None
        x = torch.randn(cfg.batch_size, cfg.channels, cfg.image_size, cfg.image_size)
        G(z, labels)  # a VAE's decoder: its encoder is about as large again, within the factor
        if D is not None:
            D(x, labels)
    except Exception:  # noqa: BLE001 - a layer meta tensors cannot run: the models and data still count
        pass
    finally:
        for h in hooks:
            h.remove()
    return total


def check_fits(cfg: TrainConfig, device: torch.device, n_images: int, num_classes: int,
               available: Optional[int] = None, pixel_bytes: Optional[int] = None) -> bool:
    """True when the data may stay on `device` beside the models and a batch, False when it must
    stream from host memory; ConfigError (naming the largest part's field) when even the models
    and one batch cannot fit. A model the estimate cannot build on meta tensors is let through
    (resident): the check must never be what stops a run that fits."""
    try:
        need = estimate(cfg, n_images, num_classes, pixel_bytes)
    except Exception:  # noqa: BLE001 - see above
        return True
    free = available if available is not None else free_bytes(device)
    if free is None or need.total <= HEADROOM * free:
        return True
    streamed = dataclasses.replace(need, data=STREAM_BATCHES * cfg.batch_size * need.data // max(1, n_images))
    if streamed.total <= HEADROOM * free:
        return False
    raise ConfigError(streamed.culprit(cfg), f"this run needs about {size_text(streamed.total)} on {device} "
                      f"(models {size_text(need.models)}, one batch's activations {size_text(need.activations)}; "
                      f"its data, {size_text(need.data)}, would stream from host memory) but only "
                      f"{size_text(free)} is free; lower image_size, batch_size or latent_dim")


def free_bytes(device: torch.device) -> Optional[int]:
    """What the device says is free, capped by $GANLIB_MEMORY_LIMIT when set."""
    free = available_bytes(device)
    limit = os.environ.get("GANLIB_MEMORY_LIMIT", "").strip()
    if limit:
        cap = parse_bytes(limit)
        free = cap if free is None else min(free, cap)
    return free


def parse_bytes(text: str) -> int:
    """"512M", "2G", "1.5G", "1000000" -> bytes; ValueError for anything else."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if scale > 1 else t)
    except ValueError:
        raise BadValue(f"GANLIB_MEMORY_LIMIT must be a size such as 512M or 2G, got {text!r}") from None
    return int(value * scale)


def size_text(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"

"""Will this config fit? An estimate of the memory a run needs on its device (the models with
their gradients, Adam state, EMA and in-memory snapshot; one batch's activations; the
resident data), checked before the run folder exists, so a config that cannot fit is a
one-line refusal instead of an allocator traceback or the kernel's OOM killer.

    need = estimate(cfg, n_images=5000, num_classes=10)
    check_fits(cfg, device, n_images=5000, num_classes=10)   # ConfigError naming the field

The models are built on torch's meta device (shapes only, no memory) and one batch is pushed
through them there, so the estimate itself allocates nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from ganlib.core.devices import available_bytes
from ganlib.core.errors import ConfigError
from ganlib.models import MODELS, build_models
from ganlib.store.config import TrainConfig

# Per parameter: weights, gradients and Adam's two moments (16 bytes), the snapshot kept for the
# next checkpoint (16 more), and the EMA copy of G's weights where there is one.
BYTES_PER_PARAM = 32
# Each activation is kept for the backward pass and gets a gradient of its own; D runs on the
# real and the fake batch.
ACTIVATION_FACTOR = 3
HEADROOM = 0.9  # of the memory said to be available


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


def estimate(cfg: TrainConfig, n_images: int, num_classes: int) -> Estimate:
    with torch.device("meta"):
        G, D = build_models(cfg, max(1, num_classes))
        nets = [m for m in (G, D) if m is not None]
        params = sum(p.numel() for m in nets for p in m.parameters())
        if cfg.ema_decay > 0:
            params += sum(p.numel() for p in G.parameters()) // 2
        acts = _activation_numel(cfg, G, D, num_classes)
    data = n_images * cfg.channels * cfg.image_size ** 2 * 4  # float32, resident on the device
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
               available: Optional[int] = None) -> Optional[Estimate]:
    """Refuse (ConfigError naming the largest part's field) a run that cannot fit on `device`.
    A model the estimate cannot build on meta tensors is let through (None): the check must
    never be what stops a run that fits."""
    try:
        need = estimate(cfg, n_images, num_classes)
    except Exception:  # noqa: BLE001 - see above
        return None
    free = available if available is not None else available_bytes(device)
    if free is not None and need.total > HEADROOM * free:
        raise ConfigError(need.culprit(cfg), f"this run needs about {size_text(need.total)} on {device} "
                          f"(models {size_text(need.models)}, one batch's activations "
                          f"{size_text(need.activations)}, data {size_text(need.data)}) but only "
                          f"{size_text(free)} is free; lower image_size, batch_size, latent_dim or max_images")
    return need


def size_text(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"

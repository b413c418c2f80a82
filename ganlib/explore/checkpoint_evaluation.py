"""Evaluate a saved checkpoint on demand: the glue behind the Evaluate page and `ganlib metrics`.

    from ganlib.explore.checkpoint_evaluation import evaluate_checkpoint, memorisation_pairs
    res = evaluate_checkpoint(run, "best.pt", extractor="auto", n=5000, progress=print)
    res.row["fid"], res.row["extractor"], res.row["eval_n"], res.warnings
    mem = memorisation_pairs(run, "best.pt", n_gen=500, k=8)   # nearest training images

`evaluate_checkpoint` loads the checkpoint's generator handle and the run's dataset (with the
checkpoint's own config fields) and calls the one pipeline, `ganlib.metrics.evaluation.
evaluate_generator`, as the engine does. `progress(fraction, text)` is called between stages.

`memorisation_pairs` is the memorisation check in pixel space: each generated sample's nearest
training image. Distances only mean something next to a yardstick, so it also measures how far
real training images lie from their nearest *other* training image (leave-one-out) and
reports the share of generated samples closer to the training set than the 5 % closest real
images are: about 5 % for samples that behave like fresh real images, far more for copies.

No streamlit here: results are plain data (dicts, floats, PNG bytes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch

from ganlib.core.images import grid_image, png_bytes
from ganlib.data import cached_run_data, data_fields
from ganlib.metrics.evaluation import Progress, evaluate_generator
from ganlib.metrics.memorisation import nearest_training
from ganlib.metrics.metric_registry import EvalResult
from ganlib.metrics.precision_recall import pairwise_sq_dists
from ganlib.metrics.translation import translate
from ganlib.models import MODELS
from ganlib.store.checkpoints import find_checkpoint, load_handle
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

NN_QUANTILE = 0.05  # yardstick: the 5 % closest real images to the rest of the training set


def _noop(fraction: float, text: str) -> None:
    pass


def evaluate_checkpoint(run: Run, checkpoint: str | Path | None = None, *, extractor: str = "auto",
                        n: Optional[int] = None, inception_weights: Optional[str] = None,
                        device: str = "cpu", progress: Optional[Progress] = None) -> EvalResult:
    """The full metric table of one checkpoint (default: best.pt, else the latest) through
    `evaluate_generator`. `details` adds run, checkpoint, epoch, data_size, extractor_note and
    class_names to the evaluation's own."""
    say = progress or _noop
    path = find_checkpoint(run, checkpoint, prefer_best=True)
    say(0.05, f"Loading the generator from {path.name}")
    h = load_handle(path, device)
    cfg = TrainConfig.from_dict(h.config)
    if inception_weights is None:  # the run's config.json (edited since, perhaps), else the checkpoint's
        try:
            inception_weights = run.config().inception_weights
        except Exception:  # noqa: BLE001 - an unreadable config.json: the checkpoint's config
            inception_weights = cfg.inception_weights
    say(0.15, f"Loading {cfg.dataset}")
    data = cached_run_data(cfg, device)
    res = evaluate_generator(h, data, extractor=extractor, n=n, inception_weights=inception_weights,
                             dataset_key=data_fields(cfg), device=device, progress=say)
    res.details.update(run=run.name, checkpoint=path.name, epoch=h.epoch, data_size=len(data),
                       class_names=list(h.class_names or data.class_names))
    say(1.0, "Done")
    return res


# ---- memorisation ------------------------------------------------------------------------
@dataclass
class Pair:
    gen_index: int
    train_index: int
    distance: float  # L2 in pixel space, images in [-1, 1]
    png: bytes  # the generated sample (left) beside its nearest training image (right)


@dataclass
class Memorisation:
    pairs: list[Pair]  # the k closest, closest first
    n_gen: int
    n_train: int
    gen_median: float  # median nearest-training distance of the generated samples
    real_median: float  # median leave-one-out nearest distance of real training images
    real_q05: float  # 5th percentile of those: the yardstick for "suspiciously close"
    share_close: float  # share of generated samples closer than real_q05
    n_real: int  # real images behind the yardstick
    details: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def memorisation_pairs(run: Run, checkpoint: str | Path | None = None, *, n_gen: int = 500, k: int = 8,
                       n_real: int = 500, device: str = "cpu", seed: int = 20_240_102, scale: int = 3,
                       progress: Optional[Progress] = None) -> Memorisation:
    """Nearest training image (pixel L2) of `n_gen` generated samples; the `k` closest pairs as
    PNGs, with the real-to-real yardstick described in the module docstring."""
    say = progress or _noop
    path = find_checkpoint(run, checkpoint, prefer_best=True)
    say(0.1, "Nearest training images: generating samples")
    h = load_handle(path, device)
    data = cached_run_data(TrainConfig.from_dict(h.config), device)
    if MODELS.get(h.config["model"]).translation:  # a translator's samples: its outputs for held-out inputs
        split = data.held_out if data.held_out is not None else data
        fake = translate(h.G, split.source[:n_gen]).clamp(-1, 1)
        n_gen = len(fake)
    else:
        gen = torch.Generator(device=device).manual_seed(seed)
        fake = h.decode(h.latents(n_gen, generator=gen), h.labels(None, n_gen)).clamp(-1, 1)
    train = data.images
    say(0.4, f"Nearest training images: searching {len(train):,} training images")
    nn_gen = nearest_training(fake, train)

    say(0.7, "Nearest training images: real-to-real yardstick")
    m = max(1, min(n_real, len(train) // 2))
    q = train[:m]
    d_rest = nearest_training(q, train[m:]).distances if len(train) > m else torch.full((m,), float("inf"))
    flat = q.reshape(m, -1).double()
    within = pairwise_sq_dists(flat, flat)
    within.fill_diagonal_(float("inf"))
    real_d = torch.minimum(d_rest.double().cpu(), within.min(dim=1).values.sqrt().cpu())
    real_q05 = float(torch.quantile(real_d, NN_QUANTILE))
    gen_d = nn_gen.distances.cpu()

    pairs = []
    for gi, ti, d in nn_gen.closest_pairs(k):
        both = torch.stack([fake[gi].cpu(), train[ti].cpu()])
        pairs.append(Pair(gi, ti, d, png_bytes(grid_image(both, nrow=2, padding=2, scale=scale))))
    say(1.0, "Done")
    return Memorisation(pairs=pairs, n_gen=n_gen, n_train=len(train), gen_median=float(gen_d.median()),
                        real_median=float(real_d.median()), real_q05=real_q05,
                        share_close=float((gen_d < real_q05).double().mean()), n_real=m,
                        details={"run": run.name, "checkpoint": path.name, "epoch": h.epoch})

"""Evaluate a saved checkpoint on demand: the glue behind the Evaluate page (and, later, the CLI).

    from ganlib.explore.checkpoint_evaluation import evaluate_checkpoint, memorisation_pairs
    res = evaluate_checkpoint(run, "best.pt", extractor="auto", n=5000, progress=print)
    res.row["fid"], res.row["extractor"], res.row["eval_n"], res.warnings
    mem = memorisation_pairs(run, "best.pt", n_gen=500, k=8)   # nearest training images

`evaluate_checkpoint` loads the checkpoint's generator and the run's dataset (with the
checkpoint's own config fields), resolves the extractor (`auto`, or a fallback to the digit
classifier when the Inception weights cannot be had, with the message saying how to get them),
takes the real reference from the disk cache shared with the training engine, and calls
`ganlib.metrics.evaluate.evaluate`. `progress(fraction, text)` is called between the stages.

`memorisation_pairs` is the memorisation check in pixel space: each generated sample's nearest
training image. Distances only mean something next to a yardstick, so it also measures how far
real training images lie from their nearest *other* training image (leave-one-out) and
reports the share of generated samples closer to the training set than the 5 % closest real
images are: about 5 % for samples that behave like fresh real images, far more for copies.

No streamlit here: results are plain data (dicts, floats, PNG bytes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from ganlib.store.checkpoints import load_generator
from ganlib.store.config import TrainConfig
from ganlib.data import ImageData, load_dataset
from ganlib.core.images import grid_image, png_bytes
from ganlib.metrics.evaluate import finite_or_none
from ganlib.store.run_folder import Run
from ganlib.store.checkpoints import choose_checkpoint

Progress = Callable[[float, str], None]
DEFAULT_N = 10_000  # generated samples when none are asked for (capped at the data size)
NN_QUANTILE = 0.05  # yardstick: the 5 % closest real images to the rest of the training set


def _noop(fraction: float, text: str) -> None:
    pass


# ---- what a checkpoint is ----------------------------------------------------------------
def checkpoint_path(run: Run, checkpoint: str | Path | None = None) -> Path:
    """`None`: best.pt when the run has one, else its latest checkpoint; a bare name such as
    "best.pt" or "epoch_0004.pt" is looked up in the run's ckpt/ folder."""
    if checkpoint is None and run.best_checkpoint_path().is_file():
        return run.best_checkpoint_path()
    return choose_checkpoint(run, checkpoint)


def checkpoint_choices(run: Run) -> list[tuple[str, str]]:
    """(file name, label) of every checkpoint of the run, best.pt first when it exists."""
    out = []
    if run.best_checkpoint_path().is_file():
        best_epoch = _best_epoch(run)
        out.append(("best.pt", "best.pt: lowest FID" + (f" (epoch {best_epoch})" if best_epoch else "")))
    out += [(p.name, f"epoch {e}") for e, p in reversed(run.checkpoints())]
    return out


def _best_epoch(run: Run) -> Optional[int]:
    """The epoch whose FID best.pt holds, read from metrics.csv (no checkpoint load)."""
    best = None
    for r in run.metrics():
        f = finite_or_none(r.get("fid"))
        if f is not None and (best is None or f < best[0]):
            best = (f, int(r["epoch"]))
    return best[1] if best else None


# ---- data --------------------------------------------------------------------------------
def data_key(cfg: TrainConfig) -> dict[str, Any]:
    from ganlib.metrics.evaluate import dataset_key  # the engine's cache key, so caches are shared

    return dataset_key(cfg)


@lru_cache(maxsize=1)
def _dataset(key: tuple, device: str) -> ImageData:
    d = dict(key)
    return load_dataset(d["dataset"], data_path=d["data_path"], channels=d["channels"],
                        image_size=d["image_size"], max_images=d["max_images"], device=device)


def run_dataset(cfg: TrainConfig, device: str = "cpu") -> ImageData:
    """The run's data as the engine loaded it; the last one is kept in memory."""
    return _dataset(tuple(sorted(data_key(cfg).items())), str(device))


def dataset_size(cfg: TrainConfig) -> int:
    """Number of images the run trained on (after max_images)."""
    return len(run_dataset(cfg))


def default_n(size: int) -> int:
    return min(DEFAULT_N, size)


def resolve(extractor: str, channels: int, weights: str = "") -> tuple[str, str]:
    """`resolve_extractor`: the extractor that will be used and, for a fallback, why and how
    to get the Inception weights."""
    from ganlib.metrics.evaluate import resolve_extractor

    return resolve_extractor(extractor, channels, weights)


# ---- the metric table --------------------------------------------------------------------
def evaluate_checkpoint(run: Run, checkpoint: str | Path | None = None, *, extractor: str = "auto",
                        n: Optional[int] = None, inception_weights: Optional[str] = None,
                        device: str = "cpu", progress: Optional[Progress] = None):
    """The full metric table of one checkpoint -> `EvalResult(row, details, warnings)`.

    `row` has the EVAL_COLUMNS (every value names its extractor and N); `details` adds the
    class histograms and per-class numbers of `evaluate`, plus run, checkpoint, epoch,
    data_size and extractor_note (the fallback message, empty when none)."""
    from ganlib.metrics.evaluate import evaluate, get_extractor, real_reference, resolve_extractor
    from ganlib.models import MODELS

    say = progress or _noop
    path = checkpoint_path(run, checkpoint)
    say(0.05, f"Loading the generator from {path.name}")
    G, ck = load_generator(path, device)
    cfg = TrainConfig.from_dict(ck["config"])
    if inception_weights is None:  # the run's config.json (edited since, perhaps), else the checkpoint's
        try:
            inception_weights = run.config().inception_weights
        except Exception:  # noqa: BLE001 - an unreadable config.json: the checkpoint's config
            inception_weights = cfg.inception_weights
    weights = inception_weights
    say(0.15, f"Loading {cfg.dataset}")
    data = run_dataset(cfg, device)
    notes: list[str] = []
    want = default_n(len(data)) if n is None else int(n)
    if want > len(data):
        notes.append(f"N = {want:,} asked for, but the run's data holds {len(data):,} images: using N = {len(data):,}.")
    n = max(2, min(want, len(data)))
    say(0.3, f"Loading the {extractor} extractor")
    name, note = resolve_extractor(extractor, cfg.channels, weights)
    ext = get_extractor(name, str(device), weights if name == "inception" else "")
    say(0.45, f"Real reference: {n:,} images (cached on disk after the first time)")
    ref = real_reference(data.images, data.labels, ext, n, dataset_key=data_key(cfg))
    say(0.6, f"Generating and embedding {n:,} samples")
    num_classes = int(ck.get("num_classes", max(1, data.num_classes)))
    res = evaluate(G, ref, ext, n=n, latent_dim=cfg.latent_dim, conditional=MODELS.get(cfg.model).conditional,
                   num_classes=num_classes, device=device)
    res.warnings[:0] = notes
    res.details.update(run=run.name, checkpoint=path.name, epoch=int(ck.get("epoch", 0)), data_size=len(data),
                       extractor_note=note, class_names=list(ck.get("class_names") or data.class_names))
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
    from ganlib.metrics.memorisation import nearest_training
    from ganlib.metrics.precision_recall import pairwise_sq_dists
    from ganlib.models import MODELS

    say = progress or _noop
    path = checkpoint_path(run, checkpoint)
    say(0.1, "Nearest training images: generating samples")
    G, ck = load_generator(path, device)
    cfg = TrainConfig.from_dict(ck["config"])
    data = run_dataset(cfg, device)
    num_classes = int(ck.get("num_classes", max(1, data.num_classes)))
    gen = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(n_gen, cfg.latent_dim, device=device, generator=gen)
    y = torch.arange(n_gen, device=device) % num_classes if MODELS.get(cfg.model).conditional else None
    fake = G.eval()(z, y).clamp(-1, 1)
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
                        details={"run": run.name, "checkpoint": path.name, "epoch": int(ck.get("epoch", 0))})

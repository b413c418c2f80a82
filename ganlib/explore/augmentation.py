"""Does GAN-made training data help a classifier? Seed 003's augmentation, measured on a run.

    result = augment_run(run, AugmentSettings(real_per_class=(10, 50, 100), generated_per_class=500, seeds=3))

For each seed and each number n of real images per class, a small CNN is trained on

    real       n real images per class,
    real+gen   the same n real images plus k generated ones per class,

and once per seed on

    gen        the k generated images per class alone: the Classification Accuracy Score
               (CAS, Ravuri & Vinyals 2019),

and every one is tested on real images the generator never trained on: the held-out split
of the run's dataset (`ganlib.data.HELDOUT_SPLITS`); a run trained on all of its data is
refused. Two more numbers come free: GAN-test (Shmelkov et al. 2018), the real-only
classifiers' accuracy on the generated images (high when samples look like their class,
however little they vary), and `gen-seen`, the CAS classifier's accuracy on images the
generator *did* train on: above its held-out accuracy, the generator copies its training set.

Classifiers train a fixed number of steps, so a small set is not undertrained. They draw from
their own `torch.Generator`s (weights, batches, subsets, latents): the dashboard runs this in
the process where a training job draws from the global RNG. `ganlib.explore.augment_report`
turns the records into the table and the plain reading.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.core.devices import resolve_device
from ganlib.core.errors import BadValue, ConfigError
from ganlib.core.threads import torch_threads
from ganlib.data import HELDOUT_SPLITS, ImageData, data_fields, load_dataset
from ganlib.explore.augment_report import summary_table
from ganlib.metrics.evaluation import Progress
from ganlib.models import MODELS
from ganlib.models.handle import GeneratorHandle
from ganlib.store.checkpoints import find_checkpoint, load_handle
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

LATENT_SEED = 104_729  # generated images of seed s come from latents of seed LATENT_SEED + s
SEEN_TEST = 1000  # images the generator trained on that `gen-seen` tests on


class AugmentCancelled(RuntimeError):
    """The experiment was asked to stop; nothing was written."""


@dataclass(frozen=True)
class AugmentSettings:
    real_per_class: tuple[int, ...] = (10, 50, 100)
    generated_per_class: int = 500
    seeds: int = 3
    steps: int = 300  # classifier training steps, whatever the set's size
    batch_size: int = 64
    lr: float = 2e-3

    def check(self, available_per_class: int, dataset: str) -> None:
        """A one-line ValueError naming the setting that cannot be run."""
        if not self.real_per_class:
            raise BadValue("real-per-class: give at least one size, e.g. 10,50,100")
        low = min(self.real_per_class)
        if low < 1:
            raise BadValue(f"real-per-class: sizes must be at least 1, got {low}")
        high = max(self.real_per_class)
        if high > available_per_class:
            raise BadValue(f"real-per-class: {high} is more than the {available_per_class} real images per "
                             f"class that {dataset} holds")
        for name, value, lo in (("generated-per-class", self.generated_per_class, 1), ("seeds", self.seeds, 1),
                                ("steps", self.steps, 1), ("batch-size", self.batch_size, 1)):
            if value < lo:
                raise BadValue(f"{name}: must be at least {lo}, got {value}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["real_per_class"] = list(self.real_per_class)
        return d


# ---- the classifier ---------------------------------------------------------------------
class SmallCNN(nn.Module):
    """Two 3x3 conv blocks and two linear layers: about 100k weights, a few ms a step on a CPU."""

    def __init__(self, channels: int, size: int, num_classes: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, 64), nn.ReLU(), nn.Linear(64, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def new_classifier(channels: int, size: int, num_classes: int, seed: int, device: torch.device) -> SmallCNN:
    """Built on the meta device and initialised from its own generator (PyTorch's default
    scheme), so that building one never advances the global RNG."""
    with torch.device("meta"):
        net = SmallCNN(channels, size, num_classes)
    net = net.to_empty(device=device)
    g = torch.Generator(device=device).manual_seed(seed)
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
            bound = 1 / math.sqrt(m.weight[0].numel())
            nn.init.uniform_(m.bias, -bound, bound, generator=g)
    return net


def train_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int, settings: AugmentSettings,
                     seed: int) -> SmallCNN:
    """`settings.steps` Adam steps on batches drawn with replacement from (x, y)."""
    net = new_classifier(x.shape[1], x.shape[-1], num_classes, seed, x.device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    g = torch.Generator(device=x.device).manual_seed(seed + 1)
    net.train()
    for _ in range(settings.steps):
        b = torch.randint(len(x), (min(settings.batch_size, len(x)),), device=x.device, generator=g)
        loss = F.cross_entropy(net(x[b]), y[b])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 1000) -> float:
    right = sum(int((net(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(chunk), y.split(chunk)))
    return right / max(1, len(y))


# ---- the experiment -----------------------------------------------------------------------
@torch.no_grad()
def generated_set(handle: GeneratorHandle, per_class: int, seed: int, device: torch.device,
                  chunk: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` samples of every class, clamped to [-1, 1], on `device`."""
    n = per_class * handle.num_classes
    labels = torch.arange(handle.num_classes).repeat_interleave(per_class)
    z = handle.latents(n, LATENT_SEED + seed)
    parts = [handle.decode(zb, handle.labels(yb, len(yb))).clamp(-1, 1).to(device)
             for zb, yb in zip(z.split(chunk), labels.split(chunk))]
    return torch.cat(parts), labels.to(device)


def class_orders(labels: torch.Tensor, num_classes: int, seed: int) -> list[torch.Tensor]:
    """Per class, its indices in a seeded order: the first n are seed `seed`'s n images, so a
    seed's smaller sets are part of its larger ones."""
    g = torch.Generator().manual_seed(seed)
    cpu = labels.cpu()
    orders = []
    for c in range(num_classes):
        idx = torch.nonzero(cpu == c).flatten()
        orders.append(idx[torch.randperm(len(idx), generator=g)].to(labels.device))
    return orders


def _noop(fraction: float, text: str) -> None:
    pass


def augmentation_experiment(handle: GeneratorHandle, real: ImageData, heldout: ImageData,
                            settings: AugmentSettings = AugmentSettings(), *, seen: Optional[ImageData] = None,
                            progress: Optional[Progress] = None,
                            should_stop: Optional[Callable[[], bool]] = None) -> list[dict[str, Any]]:
    """The records {arm, real_per_class, generated_per_class, seed, accuracy} of every
    classifier: arms real, real+gen and gen tested on `heldout`, gan-test (the real-only
    classifiers on the generated images) and gen-seen (the gen classifier on `seen`, images
    the generator trained on, when given). `real` is the pool the real images are drawn from."""
    say, stop = progress or _noop, should_stop or (lambda: False)
    if not handle.conditional:
        raise BadValue("the augmentation experiment needs a conditional generator: it asks for images of each class")
    classes = handle.num_classes
    if real.labels is None or heldout.labels is None:
        raise BadValue("the augmentation experiment needs labelled real images")
    available = int(torch.bincount(real.labels.cpu(), minlength=classes).min())
    settings.check(available, real.name)
    device = real.images.device
    x_test, y_test = heldout.images.to(device), heldout.labels.to(device)
    sizes, k = sorted(set(settings.real_per_class)), settings.generated_per_class
    units, done = settings.seeds * (2 + 2 * len(sizes)), 0
    records: list[dict[str, Any]] = []

    def tick(text: str) -> None:
        nonlocal done
        if stop():
            raise AugmentCancelled("the augmentation experiment was stopped")
        say(done / units, text)
        done += 1

    def record(arm: str, n: int, seed: int, acc: float) -> None:
        records.append({"arm": arm, "real_per_class": n, "generated_per_class": 0 if arm == "real" else k,
                        "seed": seed, "accuracy": round(acc, 4)})

    with torch_threads(1 if device.type == "cpu" else 0):  # small nets: 2 threads on 2 busy cores ran 10x slower
        _arms(handle, real, x_test, y_test, settings, seen, tick, record)
    say(1.0, "done")
    return records


def _arms(handle: GeneratorHandle, real: ImageData, x_test: torch.Tensor, y_test: torch.Tensor,
          settings: AugmentSettings, seen: Optional[ImageData], tick: Callable[[str], None],
          record: Callable[[str, int, int, float], None]) -> None:
    """Every seed's classifiers, each reported through `record(arm, n, seed, accuracy)`."""
    classes, device = handle.num_classes, real.images.device
    sizes, k = sorted(set(settings.real_per_class)), settings.generated_per_class
    for seed in range(settings.seeds):
        tag = f"seed {seed + 1}/{settings.seeds}"
        tick(f"{tag}: generating {k} images per class")
        x_gen, y_gen = generated_set(handle, k, seed, device)
        tick(f"{tag}: training on generated images only")
        net = train_classifier(x_gen, y_gen, classes, settings, seed=1000 * seed)
        record("gen", 0, seed, accuracy(net, x_test, y_test))
        if seen is not None:
            record("gen-seen", 0, seed, accuracy(net, seen.images[:SEEN_TEST].to(device),
                                                 seen.labels[:SEEN_TEST].to(device)))
        orders = class_orders(real.labels, classes, seed)
        for n in sizes:
            idx = torch.cat([o[:n] for o in orders])
            x_real, y_real = real.images[idx], real.labels[idx]
            tick(f"{tag}: training on {n} real images per class")
            net = train_classifier(x_real, y_real, classes, settings, seed=1000 * seed + n)
            record("real", n, seed, accuracy(net, x_test, y_test))
            record("gan-test", n, seed, accuracy(net, x_gen, y_gen))
            tick(f"{tag}: training on {n} real + {k} generated images per class")
            net = train_classifier(torch.cat([x_real, x_gen]), torch.cat([y_real, y_gen]), classes, settings,
                                   seed=1000 * seed + n + 500)
            record("real+gen", n, seed, accuracy(net, x_test, y_test))


# ---- on a run -----------------------------------------------------------------------------
def heldout_dataset(cfg: TrainConfig) -> str:
    """The dataset of real images this run never trained on, or a ConfigError that says how
    to train a run that has one."""
    if cfg.dataset not in HELDOUT_SPLITS:
        splits = ", ".join(HELDOUT_SPLITS.names())
        raise ConfigError("dataset", f"the run trained on {cfg.dataset}, so no real images of it are unseen by its "
                                     "generator and a test on them would flatter it; train on a split that keeps "
                                     f"some back ({splits}), e.g. python -m ganlib train --dataset mnist5k_train")
    if not MODELS.get(cfg.model).conditional:
        cond = ", ".join(n for n in MODELS.names() if MODELS.get(n).conditional)
        raise ConfigError("model", f"{cfg.model} is unconditional: the experiment asks the generator for images "
                                   f"of each class; train a conditional model ({cond})")
    return HELDOUT_SPLITS.get(cfg.dataset)


def augment_run(run: Run, settings: AugmentSettings = AugmentSettings(), *, checkpoint: str | Path | None = None,
                device: str = "auto", progress: Optional[Progress] = None,
                should_stop: Optional[Callable[[], bool]] = None, write: bool = True) -> dict[str, Any]:
    """The experiment on a run's generator (default: best.pt, else the latest checkpoint),
    written into the run folder (augment.json, augment.csv) unless `write` is False."""
    say = progress or _noop
    cfg = run.config()
    heldout_name = heldout_dataset(cfg)  # refuses before anything loads
    path = find_checkpoint(run, checkpoint, prefer_best=True)
    dev = resolve_device(device)
    t0 = time.perf_counter()
    say(0.0, f"loading the generator from {path.name} and the data")
    handle = load_handle(path, dev)
    fields = {**data_fields(cfg), "max_images": 0}
    name = fields.pop("dataset")
    real = load_dataset(name, device=dev, **fields)
    heldout = load_dataset(heldout_name, device=dev, **fields)
    trained_on = cfg.max_images if 0 < cfg.max_images < len(real) else len(real)
    seen = real.subset(trained_on)
    records = augmentation_experiment(handle, real, heldout, settings, seen=seen,
                                      progress=lambda f, t: say(0.02 + 0.97 * f, t), should_stop=should_stop)
    result = {"run": run.name, "checkpoint": path.name, "epoch": handle.epoch, "model": cfg.model,
              "dataset": name, "heldout": heldout_name, "heldout_images": len(heldout),
              "generator_trained_on": trained_on, "num_classes": handle.num_classes,
              "settings": settings.to_dict(), "device": str(dev),
              "seconds": round(time.perf_counter() - t0, 1), "records": records}
    if write:
        run.write_augment(result, summary_table(records))
    return result

"""What a config means in its context: the checks that need the loaded data (a batch larger than
the data, a conditional model on unlabelled data, pairs for pix2pix), and which fields matter
for the other fields' values (the Train page shows only those widgets)."""
from __future__ import annotations

import dataclasses
from typing import Any

from ganlib.core.errors import ConfigError
from ganlib.data import NO_PATH_DATASETS
from ganlib.losses import LOSSES
from ganlib.models import MODELS
from ganlib.store.config import TrainConfig, field_specs


def check_against_data(cfg: TrainConfig, n_images: int, has_labels: bool, data_kind: str = "images") -> None:
    """`data_kind`: "images", or translation data that is "paired" or "unpaired"."""
    spec = MODELS.get(cfg.model)
    if spec.data == "paired" and data_kind != "paired":
        raise ConfigError("dataset", f"{cfg.model} learns from pairs (an input and its target); dataset {cfg.dataset} "
                                     f"has {'unpaired domains' if data_kind == 'unpaired' else 'single images'}: "
                                     "choose edges2digits or paired_folder (or cyclegan for unpaired data)")
    if spec.data == "unpaired" and data_kind == "images":
        raise ConfigError("dataset", f"{cfg.model} translates between two domains; dataset {cfg.dataset} has one: "
                                     "choose digits2styled, unpaired_folder, edges2digits or paired_folder")
    if cfg.batch_size > n_images:
        raise ConfigError("batch_size", f"batch of {cfg.batch_size} is larger than the {n_images} images of the data")
    if MODELS.get(cfg.model).conditional and not has_labels:
        uncond = ", ".join(n for n in MODELS.names() if not MODELS.get(n).conditional)
        raise ConfigError("model", f"{cfg.model} is conditional and needs labels; dataset {cfg.dataset} has none "
                          f"(for a folder, put each class in its own subfolder, or pick an unconditional model: "
                          f"{uncond})")


def relevant_fields(values: dict[str, Any]) -> set[str]:
    """The fields that matter for these choices, so the Train page shows only their sliders
    (clip value only with WGAN, no discriminator options for a VAE, and so on)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    model = values.get("model", "mlp_gan")
    spec = MODELS.get(model) if model in MODELS else None
    loss = LOSSES.get(values["loss"]) if values.get("loss") in LOSSES else None
    hide: set[str] = set()
    if values.get("dataset", "mnist5k") in NO_PATH_DATASETS:
        hide.add("data_path")
    kind = spec.kind if spec is not None else "gan"
    hide |= {f.name for f in field_specs() if f.metadata["kinds"] and kind not in f.metadata["kinds"]}
    if str(values.get("device", "auto")).startswith("cuda"):
        hide.add("cpu_threads")
    if spec is None or len(spec.variants) < 2:
        hide.add("variant")
    if spec is not None and spec.default_dropout == 0 and values.get("dropout") is None:
        hide.add("dropout")
    gan_only = {f.name for f in field_specs() if f.metadata["d_only"]}
    if not (spec and spec.convolutional):
        hide.add("channels_last")
    if spec is not None and spec.translation:  # its own objective: only the learning rates of its D
        hide |= {f.name for f in field_specs() if f.metadata["d_only"] == "switch"}
        hide |= {"loss", "d_norm", "clip_value", "gp_weight", "latent_dim", "ema_decay"}
    elif spec is not None and not spec.adversarial:
        hide |= gan_only
    else:
        if not (spec and spec.convolutional) or kind == "stylegan":  # stylegan's D has no norm layers
            hide |= {"d_norm", "patch_gan"}
        if spec and spec.conditional:
            hide.add("patch_gan")
        if not (loss and loss.clip):
            hide.add("clip_value")
        if not ((loss and loss.needs_gp) or values.get("gradient_penalty")):
            hide.add("gp_weight")
        if loss and loss.needs_gp:
            hide.add("gradient_penalty")  # always on with WGAN-GP
        if not (loss and loss.bce):
            hide.add("label_smoothing")
    if spec is not None and spec.latent is not None:  # the family derives z's length (diffusion: the image's)
        hide.add("latent_dim")
    if not values.get("eval_every", 1):
        hide |= {"eval_samples", "extractor", "inception_weights", "early_stop"}
    if values.get("extractor", "auto") == "digits":
        hide.add("inception_weights")
    return names - hide

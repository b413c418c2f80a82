"""The one typed, validated configuration of a training run.

The Train page's sliders, the CLI's `--FIELD VALUE` flags and `config.json` all edit this
dataclass, so a value is checked in one place. A bad value raises `ConfigError` naming the
field before any training starts. Which fields apply given the others, the choices a field
may take and the checks that need the loaded data (a batch larger than the data, a
conditional model on unlabelled data) are `store.config_rules`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from ganlib.core.errors import BadValue, ConfigError
from ganlib.data import NEEDS_PATH
from ganlib.data.image_files import RESIZE_MODES, parse_background
from ganlib.losses.diffaugment import POLICIES, policies_of
from ganlib.models import MODELS
from ganlib.store.config_rules import check_choices, check_rules, hidden_fields

# When a field of an existing run may change, by its role. "live": while it trains (applied at
# the next epoch boundary), "resume": when training continues in the same run folder, "fork":
# in a new run that starts from one of its checkpoints. Architecture, data and loss never
# change: the saved weights and optimizer state were built from them.
ROLES: dict[str, frozenset[str]] = {
    "arch": frozenset(),  # shapes tensors, the data or the objective
    "fork": frozenset({"fork"}),  # what is trained, not its shape: a new run may differ
    "speed": frozenset({"fork", "resume"}),  # how the same computation runs
    "live": frozenset({"fork", "live"}),  # a hyperparameter a running job may take at an epoch boundary
    "schedule": frozenset({"fork", "resume", "live"}),  # how long, how often: may change anywhere
}
CHANGE_CONTEXTS = ("live", "resume", "fork")


def _f(default, help: str, lo=None, hi=None, step=None, choices=None, log=False, role: str = "fork",
       d_only: Optional[str] = None, kinds: Optional[tuple[str, ...]] = None, group: str = "Other",
       pattern: Optional[tuple[str, str]] = None):
    """A dataclass field whose metadata tells the UI how to draw its widget (and in which box,
    `group`), the CLI how to parse its flag and a live edit, a resume or a fork whether it may
    change (`role`, see ROLES). `choices` (a registry's name in `config_rules.CHOICE_REGISTRIES`,
    or a list) and `pattern` (a regex with its words, for values a list cannot hold) are enforced
    by `config_rules.check_choices`. `d_only` marks discriminator options: "switch" (a value
    other than the default turns a feature on) or "setting" (tunes one); `kinds` names the model
    kinds (update rules) a field applies to. What applies when is `config_rules.RULES`."""
    assert role in ROLES, role
    meta = {"help": help, "min": lo, "max": hi, "step": step, "choices": choices, "log": log, "role": role,
            "d_only": d_only, "kinds": kinds, "group": group, "pattern": pattern}
    return field(default=default, metadata=meta)


DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
PRECISIONS = ("fp32", "bf16")
COMPILE_MODES = ("off", "compile", "cuda_graphs")
DIRECTIONS = ("AtoB", "BtoA")
TRANSLATION_KINDS = ("pix2pix", "cyclegan")


@dataclass(frozen=True)
class TrainConfig:
    """The defaults are the recommended recipe (the `recommended` preset), found by measurement
    (docs/PERF.md, "Default recipe search"): a compact conditional conv GAN with the hinge loss,
    batch 64 and learning rates 2e-3, which draws recognisable digits of every class within
    about half a minute of training on a 2-core CPU. The seeds' own recipes are presets."""

    dataset: str = _f("mnist5k", "Dataset name from the dataset registry.", choices="datasets", role="arch",
                      group="Data")
    data_path: str = _f("", "Folder (or .zip) of images for `folder` and `zip`, or torchvision's root for the "
                            "others.", role="arch", group="Data")
    model: str = _f("cdcgan_compact", "Model name from the model registry.", choices="models", role="arch",
                    group="Model")
    loss: str = _f("hinge", "GAN loss from the loss registry.", choices="losses", role="arch", d_only="setting",
                   group="Model")
    epochs: int = _f(50, "Epochs to train in total (a resumed run continues up to this).", 1, 5000, 1, role="schedule",
                     group="Optimiser")
    batch_size: int = _f(64, "Images per step.", 1, 4096, 1, role="fork", group="Optimiser")
    latent_dim: int = _f(100, "Length of the noise vector z.", 1, 1024, 1, role="arch", group="Model")
    lr_g: float = _f(2e-3, "Generator learning rate (Adam).", 1e-6, 1.0, log=True, role="live", group="Optimiser")
    lr_d: float = _f(2e-3, "Discriminator learning rate (Adam).", 1e-6, 1.0, log=True, role="live", d_only="setting",
                     group="Optimiser")
    beta1: float = _f(0.5, "Adam beta1; 0.5 is the DCGAN choice.", 0.0, 0.99, 0.01, role="fork", group="Optimiser")
    beta2: float = _f(0.999, "Adam beta2.", 0.9, 0.9999, 0.0001, role="fork", group="Optimiser")
    dropout: Optional[float] = _f(None, "Dropout probability; empty means the model's seed value.", 0.0, 0.9, 0.05,
                                  role="fork", group="Model")
    seed: int = _f(0, "Seed for weights, noise and data order: same seed, same run.", 0, 2**31 - 1, 1, role="fork",
                   group="Run")
    device: str = _f("auto", "auto, cpu, cuda or cuda:N.", choices=["auto", "cpu", "cuda"], role="speed",
                     pattern=(DEVICE_RE.pattern, "auto, cpu, cuda or cuda:N"), group="Run")
    sample_every: int = _f(1, "Write the fixed-noise grid every N epochs.", 1, 100, 1, role="schedule", group="Run")
    checkpoint_every: int = _f(10, "Write a checkpoint every N epochs (and always at the end).", 1, 1000, 1,
                               role="schedule", group="Run")
    time_budget: float = _f(0.0, "Stop training after this many seconds (0 = no limit): the run stops at a step "
                                 "boundary, keeps its last finished epoch and reports completed.", 0.0, 86_400.0, 10.0,
                            role="schedule", group="Run")
    tensorboard: bool = _f(False, "Also log each epoch's metrics as TensorBoard event files in the run folder "
                                  "(tb/), so that `tensorboard --logdir checkpoints` follows the run live.",
                           role="schedule", group="Run")
    image_size: int = _f(28, "Images are resized to this square size.", 8, 256, 1, role="arch", group="Data")
    channels: int = _f(1, "1 for grayscale, 3 for colour.", choices=[1, 3], role="arch", group="Data")
    max_images: int = _f(0, "Use only the first N images (0 = all); handy for quick tries.", 0, 10_000_000, 1,
                         role="arch", group="Data")
    background: str = _f("white", "What transparent pixels become (and pad's borders): white, black, or a colour "
                                  "#rrggbb.", role="arch", group="Data")
    resize_mode: str = _f("crop", "How a non-square image becomes a square: crop (its centre), pad (all of it, on "
                                  "the background) or stretch.", choices=list(RESIZE_MODES), role="arch", group="Data")
    eval_every: int = _f(5, "Compute FID, KID, IS and precision/recall every K epochs (0 = never).", 0, 100, 1,
                         role="live", group="Evaluation")
    eval_samples: int = _f(2_000, "Generated samples per evaluation (capped at the number of real images).",
                           100, 50_000, 100, role="fork", group="Evaluation")
    extractor: str = _f("auto", "Feature extractor for the metrics; auto = the one made for the data (digits, emoji), "
                                "else inception when its weights are there, else none (no FID).",
                        choices="extractors", role="fork", group="Evaluation")
    inception_weights: str = _f("", "Path to pt_inception-2015-12-05-6726825d.pth (else $GANLIB_INCEPTION_WEIGHTS, "
                                    "torch hub's cache, or a download).", role="fork", group="Evaluation")
    early_stop: int = _f(0, "Stop when FID has not improved for this many evaluations (0 = never).", 0, 100, 1,
                         role="live", group="Evaluation")
    # ---- architecture variants and stabilisers (seeds 001-004) ----
    variant: str = _f("default", "Model variant (dcgan: radford or seed001; vae: mlp or conv).", role="arch",
                      group="Model")
    d_norm: str = _f("none", "Normalisation in conv discriminators; a gradient penalty needs layer or none.",
                     choices=["batch", "layer", "none"], role="arch", d_only="setting", group="Model")
    n_critic: int = _f(1, "Discriminator steps per generator step (5 is WGAN's choice).", 1, 10, 1, role="live",
                       d_only="switch", group="Optimiser")
    clip_value: float = _f(0.01, "WGAN weight clipping: D's weights are kept in [-c, c].", 0.001, 0.1, 0.001,
                           role="live", d_only="setting", group="Stabilisers")
    gradient_penalty: bool = _f(False, "Add WGAN-GP's gradient penalty to any loss (seed 001).", role="arch",
                                d_only="switch", group="Stabilisers")
    gp_weight: float = _f(10.0, "Gradient penalty weight lambda (WGAN-GP uses 10).", 0.1, 100.0, 0.1, role="live",
                          d_only="setting", group="Stabilisers")
    r1_gamma: float = _f(0.0, "R1 penalty on real images' gradients, gamma (0 = off).", 0.0, 100.0, 0.1, role="live",
                         d_only="switch", group="Stabilisers")
    ema_decay: float = _f(0.0, "EMA of G's weights used for samples and metrics (0 = off; 0.999 typical).",
                          0.0, 0.9999, 0.0001, role="fork", group="Stabilisers")
    label_smoothing: float = _f(0.0, "One-sided label smoothing: real targets become 1 - s (BCE losses).",
                                0.0, 0.3, 0.05, role="live", d_only="switch", group="Stabilisers")
    instance_noise: float = _f(0.0, "Std of Gaussian noise added to D's inputs, decaying to 0 over the run.",
                               0.0, 1.0, 0.05, role="live", d_only="switch", group="Stabilisers")
    minibatch_std: bool = _f(False, "Minibatch standard-deviation feature in D against mode collapse (seed 004).",
                             role="arch", d_only="switch", group="Stabilisers")
    spectral_norm: bool = _f(False, "Spectral normalisation on every layer of D.", role="arch", d_only="switch",
                             group="Stabilisers")
    diffaugment: str = _f("", "DiffAugment policies applied to D's inputs: any of translation,cutout,color.",
                          role="fork", d_only="switch", group="Stabilisers")
    patch_gan: bool = _f(False, "PatchGAN head: D judges patches, not whole images (conv models, seed 003).",
                         role="arch", d_only="switch", group="Stabilisers")
    # ---- image-to-image translation (pix2pix, CycleGAN; seed 003) ----
    direction: str = _f("AtoB", "Translate domain A into B (AtoB) or B into A (BtoA). In a paired folder A is the left "
                                "half (or A/), in edges2digits the edge maps, in digits2styled the thin digits.",
                        choices=list(DIRECTIONS), role="arch", kinds=TRANSLATION_KINDS, group="Model")
    lambda_l1: float = _f(100.0, "pix2pix: weight of the L1 distance to the target beside the adversarial loss "
                                 "(the paper's 100).", 0.0, 1000.0, 1.0, role="live", kinds=("pix2pix",), group="Model")
    lambda_cycle: float = _f(10.0, "CycleGAN: weight of the cycle-consistency loss, A -> B -> A and B -> A -> B "
                                   "(the paper's 10).", 0.0, 100.0, 0.5, role="live", kinds=("cyclegan",),
                             group="Model")
    lambda_identity: float = _f(0.5, "CycleGAN: weight of the identity loss |G_AB(b) - b| + |G_BA(a) - a|, as a "
                                     "fraction of lambda_cycle (0 = off).", 0.0, 1.0, 0.05, role="live",
                                kinds=("cyclegan",), group="Model")
    pool_size: int = _f(50, "CycleGAN: generated images kept in each discriminator's history pool (0 = none).",
                        0, 1000, 1, role="arch", kinds=("cyclegan",), group="Model")
    # ---- StyleGAN's parts (seed 003), each switchable to see what it does ----
    mapping_layers: int = _f(4, "StyleGAN: depth of the mapping network z -> w (0 = w is the normalised z).", 0, 8, 1,
                             role="arch", kinds=("stylegan",), group="StyleGAN")
    adain: bool = _f(True, "StyleGAN: learned constant input and AdaIN from w at every layer; off, w is the first "
                           "layer's input (the classic generator).", role="arch", kinds=("stylegan",), group="StyleGAN")
    noise_inputs: bool = _f(True, "StyleGAN: per-layer noise images with learned per-channel scales.", role="fork",
                            kinds=("stylegan",), group="StyleGAN")
    style_mixing: float = _f(0.9, "StyleGAN: probability that a training sample mixes the styles of two w's.",
                             0.0, 1.0, 0.05, role="live", kinds=("stylegan",), group="StyleGAN")
    progressive: bool = _f(True, "StyleGAN: grow G and D from 4-7 px to the full size, fading each size in.",
                           role="fork", kinds=("stylegan",), group="StyleGAN")
    grow_until: float = _f(0.5, "StyleGAN: share of the run after which it trains at the full size (growing "
                                "stages split the part before it).", 0.05, 1.0, 0.05, role="fork", kinds=("stylegan",),
                           group="StyleGAN")
    r1_every: int = _f(4, "StyleGAN: apply R1 every N D steps, N times as strong (lazy regularisation).", 1, 64, 1,
                       role="live", d_only="setting", kinds=("stylegan",), group="StyleGAN")
    # ---- speed (the results stay float32 checkpoints of plain modules) ----
    precision: str = _f("fp32", "bf16 runs G's and D's forward passes in bfloat16 autocast (losses, weights and "
                                "optimizer state stay float32); pays on GPUs with bf16 tensor cores.",
                        choices=list(PRECISIONS), role="speed", group="Speed")
    channels_last: bool = _f(False, "Keep conv models and the data in channels-last memory format (NHWC): "
                                    "faster convolutions on GPU tensor cores.", role="speed", group="Speed")
    compile: str = _f("off", "torch.compile G and D: compile fuses kernels; cuda_graphs also replays each step as "
                             "CUDA graphs (for small batches, where kernel launches dominate). Falls back to eager "
                             "with a note if compiling fails.", choices=list(COMPILE_MODES), role="speed",
                      group="Speed")
    cpu_threads: int = _f(0, "Torch CPU threads of this run (0 = torch's default, one per core). On a machine "
                             "busy with other work, 1 or 2 avoids threads waiting on each other.", 0, 64, 1,
                          role="speed", group="Speed")

    def __post_init__(self):
        self.validate()

    # ---- validation -------------------------------------------------------------------
    def validate(self) -> None:
        """Types and ranges, choices, then the rules table (`config_rules.RULES`: the options
        that do not apply to this model, loss or data), then the architecture's own checks."""
        self._check_types_and_ranges()
        fields = field_specs()
        check_choices(self, fields)
        if self.dataset in NEEDS_PATH and not self.data_path.strip():
            raise ConfigError("data_path", f"the {self.dataset} dataset needs a path to a folder (or .zip) of images")
        try:
            parse_background(self.background)
        except ValueError as e:
            raise ConfigError("background", str(e).removeprefix("background ")) from None
        unknown = set(policies_of(self.diffaugment)) - set(POLICIES)
        if unknown:
            raise ConfigError("diffaugment", f"unknown policy {sorted(unknown)[0]!r}; use translation, cutout, color")
        check_rules(self, fields)
        MODELS.get(self.model).check_config(self)

    def _check_types_and_ranges(self) -> None:
        """Every field has its declared type and lies in its metadata's [min, max]: the one source
        of the bounds the widgets, the CLI flags and untrusted files are held to."""
        for f in field_specs():
            value, base = getattr(self, f.name), _base_types()[f.name]
            if value is None and f.default is None:
                continue
            if not isinstance(value, _ACCEPTED[base]) or (base is not bool and isinstance(value, bool)):
                raise ConfigError(f.name, f"expected {_TYPE_WORDS[base]}, got {_shown(value)}")
            if f.metadata["log"] and not value > 0:  # the likely slip: say what the number is for
                raise ConfigError(f.name, f"learning rate must be a positive number, got {value}")
            check_range(f.name, value, f.metadata["min"], f.metadata["max"])

    # ---- (de)serialisation ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build from loose values (CLI strings, JSON numbers); unknown keys are refused."""
        if not isinstance(values, dict):
            raise ConfigError("config", f"expected a mapping of field names to values, got {_shown(values)}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in set(values) - set(known))
        if unknown:  # an odd key ("", " x") is quoted, so the message still names it (found by fuzzing)
            name = unknown[0] if unknown[0].isidentifier() else repr(unknown[0])
            raise ConfigError(name, f"not a config field; fields are {', '.join(known)}")
        hints = typing.get_type_hints(cls)
        return cls(**{k: coerce(k, v, hints[k]) for k, v in values.items()})

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes) -> "TrainConfig":
        return self.from_dict({**self.to_dict(), **changes})


def coerce(name: str, value: Any, hint: Any) -> Any:
    """Turn a CLI string or JSON value into the field's type, or say which field is wrong."""
    optional = typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    if value is None or (optional and isinstance(value, str) and value.lower() in ("", "none", "default")):
        if optional:
            return None
        raise ConfigError(name, "a value is required")
    text = value.strip().lower() if isinstance(value, str) else None
    if base is bool:
        if isinstance(value, bool):
            return value
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(name, f"expected true or false (also yes/no, on/off, 1/0), got {_shown(value)}")
    if base is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(name, f"expected text, got {_shown(value)}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(name, f"expected {_TYPE_WORDS[base]}, got {_shown(value)}")
    try:
        number = float(value) if isinstance(value, str) and base is float else value
        if isinstance(value, str) and base is int:
            number = int(value) if re.fullmatch(r"\s*[-+]?\d+\s*", value) else float(value)
    except ValueError:
        raise ConfigError(name, f"expected {_TYPE_WORDS[base]}, got {_shown(value)}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(name, f"expected a finite number, got {_shown(value)}")
    if base is int:
        if isinstance(number, float) and not number.is_integer():
            raise ConfigError(name, f"expected a whole number, got {_shown(value)}")
        return int(number)
    return float(number)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_TYPE_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
_ACCEPTED = {int: numbers.Integral, float: numbers.Real, bool: bool, str: str}


@functools.lru_cache(maxsize=1)
def _base_types() -> dict[str, type]:
    """Each field's type, Optional[...] unwrapped."""
    out = {}
    for name, hint in typing.get_type_hints(TrainConfig).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        out[name] = args[0] if typing.get_origin(hint) is typing.Union else hint
    return out


def _shown(value: Any) -> str:
    """A value as a short quote: a 300-digit number or a long text does not fill the terminal."""
    if isinstance(value, (list, dict, tuple, set)):
        return f"a {type(value).__name__}"  # not its repr: a YAML alias bomb's is astronomically long
    text = repr(value)
    if len(text) <= 40:
        return text
    if isinstance(value, int):
        return f"a number of {len(str(abs(value)))} digits"
    return text[:37] + "..."


def check_range(name: str, value: float, lo: Optional[float], hi: Optional[float]) -> None:
    """Refuse `value` outside [lo, hi] (either may be None) as a ConfigError naming `name`."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(name, f"expected a finite number, got {value}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        b = [f"{x:,}" if isinstance(x, int) else f"{x:g}" for x in (lo, hi) if x is not None]
        where = f"between {b[0]} and {b[1]}" if len(b) == 2 else (f"at least {b[0]}" if lo is not None
                                                                     else f"at most {b[0]}")
        raise ConfigError(name, f"must be {where}, got {_shown(value)}")


def bounds(name: str) -> tuple[Optional[float], Optional[float]]:
    """The (min, max) a field accepts, from its metadata."""
    meta = {f.name: f.metadata for f in field_specs()}[name]
    return meta["min"], meta["max"]


# Sizes that are not config fields but shape the models all the same (a run's class count comes
# from its data, or from an imported file's metadata): held to bounds like the fields'.
NUM_CLASSES_RANGE = (1, 1000)


def field_specs() -> list[dataclasses.Field]:
    """The fields with their widget metadata, in declaration order (for the UI and CLI)."""
    return list(dataclasses.fields(TrainConfig))


def relevant_fields(values: dict[str, Any]) -> set[str]:
    """The fields that matter for these (form) values, so the Train page shows only their
    widgets: every field but those `config_rules` says do not apply."""
    return {f.name for f in field_specs()} - set(hidden_fields(values, field_specs()))


def changeable(when: str) -> tuple[str, ...]:
    """The fields that may change `when` ("live", "resume" or "fork"), in declaration order:
    what the live-edit form, `train --resume` and the fork form offer."""
    if when not in CHANGE_CONTEXTS:
        raise BadValue(f"when must be one of {', '.join(CHANGE_CONTEXTS)}, got {when!r}")
    return tuple(f.name for f in field_specs() if when in ROLES[f.metadata["role"]])


def fixed_in(when: str) -> tuple[str, ...]:
    """The fields that stay as they are `when` (the complement of `changeable`)."""
    allowed = set(changeable(when))
    return tuple(f.name for f in field_specs() if f.name not in allowed)


_REFUSALS = {
    "live": "cannot change while training; live edits take {allowed}",
    "resume": "cannot change when resuming (the run has {old!r}); a resume may change only {allowed}",
    "fork": "a fork keeps the parent's architecture, data and loss; start a new run to change it",
}


def with_changes(base: TrainConfig, changes: dict[str, Any], when: str) -> TrainConfig:
    """The one check of a change to an existing run's config: every field that differs must be
    changeable `when`, and the result must be a valid config. Returns the new config; raises
    ConfigError naming the first field that may not change (or is invalid)."""
    allowed = changeable(when)
    known = {f.name for f in field_specs()}
    for name in changes:
        if name not in known:
            raise ConfigError(name, f"not a config field; fields are {', '.join(sorted(known))}")
    new = base.replace(**changes) if changes else base
    for name in changes:
        if name not in allowed and getattr(new, name) != getattr(base, name):
            raise ConfigError(name, _REFUSALS[when].format(allowed=", ".join(allowed), old=getattr(base, name)))
    return new

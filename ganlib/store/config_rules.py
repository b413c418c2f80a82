"""Which config fields apply, given the others: one table that both refuses a config
(`TrainConfig.validate`) and hides a field (the Train form's `relevant_fields`), the choices a
field may take (enforced here), and the checks that need the loaded data.

A `Rule` names fields and says why they do not apply to a config (`reason`, None when they do).
Where a rule fires, its fields are hidden on the form (unless `hide=False`) and a value other
than the field's default is either refused (`refuse=True`: it would do something that makes no
sense, such as label smoothing on a loss without BCE targets) or kept unused (`refuse=False`:
clip value with a loss that does not clip; a preset that carries it still loads). A model
declares the options its architecture cannot take in `ModelSpec.unsupported`.

This module does not import `store.config` (which calls it): the functions take the config's
fields (`dataclasses.fields(TrainConfig)`); `store.config.relevant_fields(values)` is the
short form.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from ganlib.core.errors import ConfigError
from ganlib.data import DATASETS, NO_PATH_DATASETS, READS_FILES
from ganlib.losses import LOSSES
from ganlib.metrics import FEATURE_EXTRACTORS
from ganlib.metrics.extractor_choice import fits_dataset
from ganlib.models import MODELS

AUTO_DESCRIPTION = "the extractor made for the data (digits, emoji), else inception if its weights are there, else none"


class _Extractors:
    """`auto` plus the feature-extractor registry, shaped like a registry (names, get); each
    described by what it fits."""

    def names(self) -> list[str]:
        return ["auto", *FEATURE_EXTRACTORS.names()]

    def get(self, name: str):
        text = AUTO_DESCRIPTION if name == "auto" else f"fits {FEATURE_EXTRACTORS.get(name).fits}"
        return type("Choice", (), {"description": text})

    def __contains__(self, name: object) -> bool:
        return name in self.names()


# The registries a field's `choices` may name: the one map the config, the form and the CLI use.
CHOICE_REGISTRIES = {"datasets": DATASETS, "models": MODELS, "losses": LOSSES, "extractors": _Extractors()}


def choice_names(meta: Mapping[str, Any]) -> Optional[list[Any]]:
    """The values a field's metadata allows (a registry's names or the listed ones), or None."""
    choices = meta.get("choices")
    if isinstance(choices, str):
        return list(CHOICE_REGISTRIES[choices].names())
    return list(choices) if choices is not None else None


class Context:
    """What the rules read: a config's values (a form's may be partial or not yet valid), the
    model spec and loss they name (None for an unknown name), and each field's default."""

    def __init__(self, values: Mapping[str, Any], fields: Sequence[dataclasses.Field]):
        self.defaults = {f.name: f.default for f in fields}
        self.values = values
        model, loss = values.get("model", self.defaults.get("model")), values.get("loss", self.defaults.get("loss"))
        self.model = model
        self.spec = MODELS.get(model) if model in MODELS else None
        self.loss = LOSSES.get(loss) if loss in LOSSES else None
        self.kind = self.spec.kind if self.spec is not None else "gan"
        self.translation = bool(self.spec and self.spec.translation)
        self.conv = bool(self.spec and self.spec.convolutional)

    def get(self, name: str) -> Any:
        return self.values.get(name, self.defaults.get(name))

    @property
    def gan(self) -> bool:
        """A GAN of images (not a VAE, not a translator): the stabiliser rules are about it."""
        return self.spec is not None and not self.translation and self.kind != "vae"


Reason = Callable[[Context, dataclasses.Field], Optional[str]]


@dataclass(frozen=True)
class Rule:
    fields: Callable[[dataclasses.Field], bool]  # which fields it is about
    reason: Reason  # why they do not apply here, or None when they do
    refuse: bool  # a value other than the default: refused (True) or kept unused (False)
    hide: bool = True  # the form hides them where the rule fires


def named(*names: str) -> Callable[[dataclasses.Field], bool]:
    return lambda f: f.name in names


def _d_only(kind: str) -> Callable[[dataclasses.Field], bool]:
    return lambda f: f.metadata.get("d_only") == kind


def _when(test: Callable[[Context], bool], text: str) -> Reason:
    """A reason that fires when `test(ctx)`; `text` may name {c} (the context), {f} (the field)
    and {loss}."""
    return lambda c, f: text.format(c=c, f=f.name, loss=c.get("loss")) if test(c) else None


def _penalised(c: Context) -> bool:
    return bool(c.loss and c.loss.needs_gp) or bool(c.get("gradient_penalty")) or (c.get("r1_gamma") or 0) > 0


# In order: the first rule that refuses a config names its field.
RULES: tuple[Rule, ...] = (
    # ---- model families without a GAN discriminator ----
    Rule(_d_only("switch"), _when(lambda c: c.translation, "{c.model} trains with its own objective (seed 003's "
                                  "recipe), so {f} does not apply"), refuse=True),
    Rule(named("ema_decay"), _when(lambda c: c.translation, "{c.model} keeps no EMA of its generator; set "
                                   "ema_decay 0"), refuse=True),
    Rule(named("loss", "d_norm", "clip_value", "gp_weight", "latent_dim"),
         _when(lambda c: c.translation, "{c.model} trains with its own objective"), refuse=False),
    Rule(_d_only("switch"), _when(lambda c: c.kind == "vae", "{c.model} is a VAE: it has no discriminator, so {f} "
                                  "does not apply"), refuse=True),
    Rule(_d_only("setting"), _when(lambda c: c.kind == "vae", "{c.model} is a VAE: it has no discriminator"),
         refuse=False),
    # ---- what an architecture cannot take ----
    Rule(lambda f: True, lambda c, f: c.spec.unsupported.get(f.name) if c.spec is not None else None, refuse=True),
    Rule(lambda f: bool(f.metadata.get("kinds")),
         lambda c, f: (f"{f.name} is for {', '.join(f.metadata['kinds'])} models; {c.model} is a {c.kind} model"
                       if c.spec is not None and c.kind not in f.metadata["kinds"] else None), refuse=False),
    Rule(named("channels_last"), _when(lambda c: c.spec is not None and not c.conv, "{c.model} has no convolutional "
                                       "layers to lay out channels-last"), refuse=True),
    Rule(named("patch_gan"), _when(lambda c: c.gan and not c.conv, "{c.model} has no convolutional discriminator "
                                   "to cut into patches"), refuse=True),
    Rule(named("patch_gan"), _when(lambda c: c.gan and c.spec.conditional, "{c.model}'s projection discriminator "
                                   "judges whole images"), refuse=True),
    Rule(named("d_norm"), _when(lambda c: c.gan and (not c.conv or c.kind == "stylegan"),
                                "{c.model}'s discriminator has no norm layers"), refuse=False),
    Rule(named("d_norm"), _when(lambda c: c.gan and c.conv and c.get("d_norm") == "batch" and _penalised(c),
                                "BatchNorm in the critic is refused with a gradient penalty (WGAN-GP, R1): the "
                                "penalty needs per-sample gradients and BatchNorm mixes the batch. Use d_norm layer "
                                "or none"), refuse=True, hide=False),
    Rule(named("variant"), _when(lambda c: c.spec is not None and len(c.spec.variants) < 2,
                                 "{c.model} has one variant"), refuse=False),
    Rule(named("dropout"), _when(lambda c: c.spec is not None and c.spec.default_dropout == 0
                                 and c.get("dropout") is None, "{c.model} uses no dropout"), refuse=False),
    # ---- the loss ----
    Rule(named("label_smoothing"), _when(lambda c: c.gan and not (c.loss and c.loss.bce), "label smoothing changes "
                                         "BCE targets; loss {loss} has none"), refuse=True),
    Rule(named("clip_value"), _when(lambda c: c.gan and not (c.loss and c.loss.clip), "only the wgan loss clips "
                                    "D's weights"), refuse=False),
    Rule(named("gp_weight"), _when(lambda c: c.gan and not _gp_on(c), "no gradient penalty is on"), refuse=False),
    Rule(named("gradient_penalty"), _when(lambda c: c.gan and bool(c.loss and c.loss.needs_gp),
                                          "always on with {loss}"), refuse=False),
    # ---- data, device and evaluation ----
    Rule(named("data_path"), _when(lambda c: c.get("dataset") in NO_PATH_DATASETS, "its dataset needs no path"),
         refuse=False),
    Rule(named("background", "resize_mode"), _when(lambda c: c.get("dataset") not in READS_FILES,
                                                    "its dataset has no image files (no transparency, no odd shapes)"),
         refuse=False),
    Rule(named("cpu_threads"), _when(lambda c: str(c.get("device")).startswith("cuda"), "the run trains on a GPU"),
         refuse=False),
    Rule(named("early_stop"), _when(lambda c: not c.get("eval_every"), "early stopping watches FID: set "
                                    "eval_every above 0"), refuse=True),
    Rule(named("eval_samples", "extractor", "inception_weights"),
         _when(lambda c: not c.get("eval_every"), "live evaluation is off (eval_every 0)"), refuse=False),
    Rule(named("inception_weights"), _when(lambda c: c.get("extractor") not in ("auto", "inception"),
                                           "the {c.values[extractor]} extractor needs no Inception weights"),
         refuse=False),
    Rule(named("extractor"), lambda c, f: _unfit_extractor(c), refuse=True, hide=False),
)


def _unfit_extractor(c: Context) -> Optional[str]:
    """An extractor asked for by name that was made for other data than a built-in dataset's: its
    numbers would mean nothing there (a folder's fit is probed when it is evaluated)."""
    name, dataset = c.get("extractor"), c.get("dataset")
    if name not in FEATURE_EXTRACTORS or fits_dataset(name, dataset) is not False:
        return None
    return (f"{name} was made for {FEATURE_EXTRACTORS.get(name).fits}, not {dataset}: choose auto (the "
            "extractor that fits the data, or none) or one made for it")


def _gp_on(c: Context) -> bool:
    return bool(c.loss and c.loss.needs_gp) or bool(c.get("gradient_penalty"))


def hidden_fields(values: Mapping[str, Any], fields: Sequence[dataclasses.Field]) -> dict[str, bool]:
    """The fields that do not apply to these values (the form does not draw their widgets), each
    with whether a value other than its default would be refused (the form then sends the
    default, not a preset's value the user cannot see)."""
    ctx, out = Context(values, fields), {}
    for rule in RULES:
        if not rule.hide:
            continue
        for f in fields:
            if rule.fields(f) and rule.reason(ctx, f):
                out[f.name] = out.get(f.name, False) or rule.refuse
    return out


def check_rules(cfg: Any, fields: Sequence[dataclasses.Field]) -> None:
    """Refuse (ConfigError naming the field) a config that sets an option the table says does
    not apply to it; then every field's choices."""
    ctx = Context(dataclasses.asdict(cfg), fields)
    for rule in RULES:
        if not rule.refuse:
            continue
        for f in fields:
            if rule.fields(f) and getattr(cfg, f.name) != f.default:
                why = rule.reason(ctx, f)
                if why:
                    raise ConfigError(f.name, why)
    check_choices(cfg, fields)


def check_choices(cfg: Any, fields: Sequence[dataclasses.Field]) -> None:
    """Every field with `choices` holds one of them (a registry's names or the listed values);
    a field with a `pattern` matches it instead (device: cuda:N is not in the list)."""
    for f in fields:
        value, meta = getattr(cfg, f.name), f.metadata
        if meta.get("pattern") is not None:
            regex, words = meta["pattern"]
            if not re.fullmatch(regex, str(value)):
                raise ConfigError(f.name, f"must be {words}, got {value!r}")
            continue
        allowed = choice_names(meta)
        if allowed is None or value in allowed:
            continue
        if isinstance(meta["choices"], str):
            extra = "auto or " if meta["choices"] == "extractors" else ""
            noun = f.name if f.name in ("dataset", "model", "loss") else meta["choices"].rstrip("s")
            raise ConfigError(f.name, f"unknown {noun} {value!r}; choose {extra}one of "
                                      f"{', '.join(str(a) for a in allowed if a != 'auto')}")
        words = ", ".join(str(a) for a in allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else str(allowed[0])
        raise ConfigError(f.name, f"must be {words}, got {value!r}")


def check_against_data(cfg: Any, n_images: int, has_labels: bool, data_kind: str = "images") -> None:
    """The checks that need the loaded data. `data_kind`: "images", or translation data that is
    "paired" or "unpaired"."""
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
    if spec.conditional and not has_labels:
        uncond = ", ".join(n for n in MODELS.names() if not MODELS.get(n).conditional)
        raise ConfigError("model", f"{cfg.model} is conditional and needs labels; dataset {cfg.dataset} has none "
                          f"(for a folder, put each class in its own subfolder, or pick an unconditional model: "
                          f"{uncond})")

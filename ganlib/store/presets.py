"""Named starting points for a new run: the default recipe, the seeds' loops as they were
written, and a WGAN-GP setup. A preset fills the config; every field stays editable after it.

    cfg = apply_preset("seed004")                   # seed 004's cGAN as written
    cfg = apply_preset("seed004", epochs=5)         # explicit values override the preset
    apply_preset("recommended") == TrainConfig()    # always: the defaults are the recipe

`recommended` sets nothing, so it follows TrainConfig's defaults whatever they become. The seed
presets pin every field that decides what is trained (model, loss, optimiser, stabilisers), so
a change of the defaults never changes what "seed 000 as written" means; schedule fields (eval
and checkpoint cadence, device, seed) stay the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlib.core.errors import ConfigError
from ganlib.core.registry import Registry
from ganlib.data import DATA_FIELDS, DATA_FIELDS_IF_SET
from ganlib.models import MODELS
from ganlib.store.config import TrainConfig, field_specs


@dataclass(frozen=True)
class Preset:
    description: str  # where the values come from, in a sentence or two
    values: dict[str, Any] = field(default_factory=dict)  # the config fields it sets


PRESETS: Registry[Preset] = Registry("preset")

# Off in every seed preset: the seeds train with none of these, whatever the defaults become.
_PLAIN: dict[str, Any] = dict(
    dataset="mnist5k", image_size=28, channels=1, variant="default", latent_dim=100, dropout=None,
    loss="nonsaturating", n_critic=1, gradient_penalty=False, r1_gamma=0.0, ema_decay=0.0, label_smoothing=0.0,
    instance_noise=0.0, minibatch_std=False, spectral_norm=False, diffaugment="", patch_gan=False, d_norm="batch",
    precision="fp32", channels_last=False, compile="off",
)

PRESETS.add("recommended", Preset(
    "The default recipe: the form's own defaults, the same as python -m ganlib train with no flags."))

PRESETS.add("seed000", Preset(
    "Seed 000's MLP GAN as written: Sigmoid + BCELoss with G trained on real labels (nonsaturating), "
    "batch 128, lr 0.0002 for both nets, beta1 0.5 (beta2 is Adam's default, 0.999), latent 100, "
    "dropout 0.3 (the model's), 500 epochs. The seed trained on all 60,000 MNIST digits; the preset "
    "keeps the offline mnist5k (pick mnist for the full set).",
    {**_PLAIN, "model": "mlp_gan", "batch_size": 128, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
     "epochs": 500}))

PRESETS.add("seed004", Preset(
    "Seed 004's conditional MLP GAN as written: 16-d label embedding, LeakyReLU, dropout 0.2 (the "
    "model's), logits with BCE and G trained on real labels (nonsaturating), latent 100, batch 64 "
    "(its '64 images each'), 150 epochs (its last grid). The seed does not show its optimiser: Adam "
    "lr 0.0002, betas (0.5, 0.999) is chosen, the DCGAN setting that seeds 000 and 001 use.",
    {**_PLAIN, "model": "cgan", "batch_size": 64, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
     "epochs": 150}))

PRESETS.add("dcgan-seed001", Preset(
    "Seed 001's conv GAN (dcgan, variant seed001: BatchNorm and Dropout 0.25 in D) with its "
    "optimiser as written: Adam lr 0.0002, betas (0.5, 0.999), batch 32, BCE (nonsaturating), "
    "latent 100, 10 epochs. The seed trained on CIFAR-10; the preset keeps the offline digits "
    "(pick cifar10, 3 channels, image size 32 for the seed's data).",
    {**_PLAIN, "model": "dcgan", "variant": "seed001", "batch_size": 32, "lr_g": 2e-4, "lr_d": 2e-4,
     "beta1": 0.5, "beta2": 0.999, "epochs": 10}))

PRESETS.add("wgan-gp", Preset(
    "WGAN-GP on the standard DCGAN (variant radford) as Gulrajani et al. set it: 5 critic steps per "
    "G step, gradient penalty weight 10, Adam lr 0.0001 with betas (0.0, 0.9), batch 64; the critic "
    "uses LayerNorm (d_norm layer) because BatchNorm mixes the samples the penalty needs apart. "
    "50 epochs, the workbench's long-standing default; it is slow on a CPU (one G step per 5 batches).",
    {**_PLAIN, "model": "dcgan", "variant": "radford", "loss": "wgan_gp", "d_norm": "layer", "n_critic": 5,
     "gp_weight": 10.0, "batch_size": 64, "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9,
     "epochs": 50}))


PRESETS.add("stylegan", Preset(
    "StyleGAN's parts (seed 003) sized for a CPU: mapping network of 4 layers, constant input with AdaIN, "
    "noise inputs, style mixing 0.9, progressive growing 7 -> 14 -> 28 px over the first half of the run; "
    "hinge loss, lazy R1 (gamma 1 every 16 steps), minibatch std in D, EMA of G 0.99, Adam lr 0.002 with "
    "betas (0.5, 0.999) as the default recipe, batch 16 (more steps: it beat 32 and 64 at the same time "
    "in the trials of docs/PERF.md), 24 epochs (about 5 minutes on one CPU core).",
    {**_PLAIN, "model": "stylegan", "loss": "hinge", "d_norm": "none", "minibatch_std": True, "r1_gamma": 1.0,
     "r1_every": 16, "ema_decay": 0.99, "mapping_layers": 4, "adain": True, "noise_inputs": True,
     "style_mixing": 0.9, "progressive": True, "grow_until": 0.5, "batch_size": 16, "lr_g": 2e-3, "lr_d": 2e-3,
     "beta1": 0.5, "beta2": 0.999, "epochs": 24}))

# Colour images (issue 22 item 5): chosen by benchmarks/colour_recipes.py on emoji_train, judged on
# emoji_heldout by the emoji CNN (docs/PERF.md, "Colour recipes"). The data fields are emoji's;
# the Train form's "Use it" keeps the form's own data.
_COLOUR: dict[str, Any] = {**_PLAIN, "dataset": "emoji", "channels": 3, "background": "white",
                           "model": "cdcgan_compact", "loss": "hinge", "d_norm": "none", "batch_size": 32,
                           "lr_g": 1e-3, "lr_d": 1e-3, "beta1": 0.5, "beta2": 0.999, "epochs": 60}

PRESETS.add("colour32", Preset(
    "Colour images at 32 px, chosen by measurement (docs/PERF.md, colour recipes): the compact conditional "
    "conv GAN of the default recipe with hinge loss, Adam lr 0.001 (half the digits' 0.002), betas (0.5, 0.999), "
    "batch 32 (twice the steps per image), 60 epochs (88,320 images of emoji_train). Of 4 candidates on the "
    "built-in emoji (the digit default, + DiffAugment, + DiffAugment and EMA, this one), only it reached FID 30 "
    "with recall 0.1 on held-out emoji, scored by the emoji CNN, within 88,320 images: 3 of 3 seeds, median "
    "145 CPU s on one core. At 64 px it fell apart after 22,000 images: colour64 is measured there.",
    {**_COLOUR, "image_size": 32}))

PRESETS.add("colour64", Preset(
    "Colour images at 64 px, chosen by measurement (docs/PERF.md, colour recipes): the default recipe (compact "
    "conditional conv GAN, hinge, Adam lr 0.002, betas (0.5, 0.999), batch 64) with DiffAugment color,translation "
    "on D's inputs, 30 epochs (44,160 images of emoji_train). colour32's recipe fell apart at 64 px (FID 40 -> 88); "
    "this one reached FID 30 with recall 0.1 on held-out emoji, scored by the emoji CNN, after 22,080 images "
    "(about 120 CPU s) in 2 of 3 seeds; the third came to FID 30.1 within its 29,440.",
    {**_COLOUR, "image_size": 64, "batch_size": 64, "lr_g": 2e-3, "lr_d": 2e-3, "diffaugment": "color,translation",
     "epochs": 30}))

# Image-to-image translation (seed 003): the papers' optimiser (Adam 2e-4, betas (0.5, 0.999)) and
# loss weights (the config's defaults), with batches that keep a 2-core CPU busy.
_TRANSLATION: dict[str, Any] = dict(image_size=28, channels=1, variant="default", dropout=None, direction="AtoB",
                                    lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, ema_decay=0.0, precision="fp32",
                                    channels_last=False, compile="off")

PRESETS.add("pix2pix", Preset(
    "pix2pix on the built-in edges2digits task as Isola et al. set it: U-Net G with dropout 0.5, 16 px "
    "PatchGAN D on (edges, digit), BCE + 100 x L1, Adam lr 0.0002 with betas (0.5, 0.999), the rates "
    "decaying linearly over the last half; batch 32 (the paper's 1 is slow on a CPU), 10 epochs.",
    {**_TRANSLATION, "model": "pix2pix", "dataset": "edges2digits", "lambda_l1": 100.0, "batch_size": 32,
     "epochs": 10}))

PRESETS.add("cyclegan", Preset(
    "CycleGAN on the built-in digits2styled task (thin <-> thick strokes, unpaired) as Zhu et al. set it: "
    "LSGAN, cycle weight 10, a 50-image history pool, Adam lr 0.0002 with betas (0.5, 0.999), the rates "
    "decaying linearly over the last half; small U-Net generators (variant unet), batch 16 (the paper's 1 "
    "is slow on a CPU), 10 epochs. Identity weight 0 (the config's default is the code's 0.5): the paper "
    "added it to keep a painting's colours, and here it fights the style itself, since thickening an "
    "already thick digit counts as an identity error (docs/PERF.md: 6 % of outputs moved with it, 71 % "
    "without, after fewer images).",
    {**_TRANSLATION, "model": "cyclegan", "dataset": "digits2styled", "lambda_cycle": 10.0, "lambda_identity": 0.0,
     "pool_size": 50, "batch_size": 16, "epochs": 10}))


PRESETS.add("diffusion", Preset(
    "A class-conditional diffusion model (flow matching, seed 003's alternative to GANs) sized for a CPU, "
    "chosen by measurement (docs/PERF.md, 'Diffusion recipe search'): the tiny U-Net (16/32 channels on "
    "2x2-folded pixels: the fewest seconds to recognisable digits, and the cheapest to sample), Adam lr "
    "0.004 with betas (0.9, 0.999), batch 32, EMA 0.99, label dropout 0.1; sampled by 10 Euler steps at "
    "guidance 2 (20 network evaluations per image: as good as 20 steps, and every class recognisable far "
    "sooner than at guidance 1); evaluated every 10 epochs (an evaluation draws 2,000 images through the "
    "sampler); stops after 10 minutes (digits of every class came after 4 to 6 minutes on a busy 2-core CPU).",
    {"dataset": "mnist5k", "image_size": 28, "channels": 1, "model": "diffusion", "variant": "tiny",
     "batch_size": 32, "lr_g": 4e-3, "beta1": 0.9, "beta2": 0.999, "ema_decay": 0.99, "sample_steps": 10,
     "guidance": 2.0, "label_dropout": 0.1, "epochs": 200, "eval_every": 10, "time_budget": 600.0,
     "precision": "fp32", "channels_last": False, "compile": "off"}))


def preset_values(name: str) -> dict[str, Any]:
    """The fields the preset sets; an unknown name is a one-line ConfigError listing the known ones."""
    if name not in PRESETS:
        raise ConfigError("preset", f"unknown preset {name!r}; choose one of {', '.join(PRESETS.names())}")
    return dict(PRESETS.get(name).values)


def apply_preset(name: str, **overrides: Any) -> TrainConfig:
    """The preset's config, with `overrides` (loose values: CLI strings work) on top."""
    return TrainConfig.from_dict({**preset_values(name), **overrides})


# Fields that are not part of a recipe: which data and where it is, how often to evaluate and
# save, where to run. Every other field that a run cannot change later (arch) or that changes
# what is trained (fork, live) is a recipe's: the seed presets pin them all.
NOT_RECIPE = frozenset({"data_path", "max_images", "seed", "device", "eval_every", "eval_samples", "extractor",
                        "inception_weights", "early_stop", "clip_value", "gp_weight", "background", "resize_mode"})
DATA = frozenset(DATA_FIELDS) | frozenset(DATA_FIELDS_IF_SET)


def recipe_fields(model: str) -> list[str]:
    """The fields of a recipe for `model`'s kind: what is trained, not on which data."""
    kind = MODELS.get(model).kind if model in MODELS else "gan"
    return [f.name for f in field_specs() if f.metadata["role"] in ("arch", "fork", "live")
            and f.name not in NOT_RECIPE | DATA and not (f.metadata["kinds"] and kind not in f.metadata["kinds"])]


def recipe(name: str) -> dict[str, Any]:
    """The preset's recipe: its config's value of every recipe field (the defaults' for `recommended`)."""
    cfg = apply_preset(name).to_dict()
    return {k: cfg[k] for k in recipe_fields(cfg["model"])}


def suggested_preset(channels: int, image_size: int) -> str:
    """The preset made for data of this shape: `colour32` for colour images up to 44 px, `colour64`
    above when it is registered (a preset is registered only once measured: docs/PERF.md,
    colour recipes), `recommended` (the digits' recipe) otherwise."""
    if channels != 3:
        return "recommended"
    name = "colour32" if image_size <= 44 else "colour64"
    return name if name in PRESETS else "recommended"

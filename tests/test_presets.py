"""Named config presets (`ganlib.store.presets`) and the registry names they need."""
from __future__ import annotations

import pytest

from ganlib.core.errors import ConfigError
from ganlib.core.registry import Registry
from ganlib.models import MODELS
from ganlib.store.config import TrainConfig, field_specs
from ganlib.store.presets import NOT_RECIPE, PRESETS, apply_preset, preset_values, suggested_preset

# What each seed wrote (docs in the presets' descriptions): the fields that decide what is trained.
SEEDS = {
    "seed000": dict(model="mlp_gan", loss="nonsaturating", batch_size=128, lr_g=2e-4, lr_d=2e-4, beta1=0.5,
                    beta2=0.999, epochs=500, latent_dim=100, dropout=None),
    "seed004": dict(model="cgan", loss="nonsaturating", batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5,
                    beta2=0.999, epochs=150, latent_dim=100, dropout=None),
    "dcgan-seed001": dict(model="dcgan", variant="seed001", loss="nonsaturating", batch_size=32, lr_g=2e-4,
                          lr_d=2e-4, beta1=0.5, beta2=0.999, epochs=10, latent_dim=100, d_norm="batch"),
}
def test_the_issue_presets_are_registered():
    assert PRESETS.names() == ["recommended", "seed000", "seed004", "dcgan-seed001", "wgan-gp", "stylegan", "colour32",
                              "colour64", "pix2pix", "cyclegan", "diffusion"]
    for name in PRESETS:
        assert PRESETS.get(name).description.strip()


def test_recommended_is_the_defaults():
    assert apply_preset("recommended") == TrainConfig()
    assert preset_values("recommended") == {}


@pytest.mark.parametrize("name", list(SEEDS))
def test_seed_presets_are_the_seeds_as_written(name):
    cfg = apply_preset(name)
    assert {k: getattr(cfg, k) for k in SEEDS[name]} == SEEDS[name]
    stabilisers = dict(n_critic=1, gradient_penalty=False, r1_gamma=0.0, ema_decay=0.0, label_smoothing=0.0,
                       instance_noise=0.0, minibatch_std=False, spectral_norm=False, diffaugment="",
                       patch_gan=False)
    assert {k: getattr(cfg, k) for k in stabilisers} == stabilisers  # the seeds use none of them


@pytest.mark.parametrize("name", list(SEEDS))
def test_seed_presets_pin_every_recipe_field(name):
    """A new default (the lead's fast recipe) must not leak into 'seed 000 as written'."""
    roles = {f.name: f.metadata["role"] for f in field_specs()}
    kind = MODELS.get(preset_values(name)["model"]).kind
    other_kinds = {f.name for f in field_specs() if f.metadata["kinds"] and kind not in f.metadata["kinds"]}
    recipe = {n for n, role in roles.items() if role in ("arch", "fork", "live")} - NOT_RECIPE - other_kinds
    assert recipe - set(preset_values(name)) == set()


def test_wgan_gp_is_a_valid_penalised_critic():
    cfg = apply_preset("wgan-gp")
    assert (cfg.loss, cfg.n_critic, cfg.gp_weight, cfg.d_norm) == ("wgan_gp", 5, 10.0, "layer")
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2) == (1e-4, 1e-4, 0.0, 0.9)


def test_overrides_win_and_are_checked():
    cfg = apply_preset("seed004", epochs="5", batch_size=32)  # CLI strings work
    assert (cfg.model, cfg.epochs, cfg.batch_size) == ("cgan", 5, 32)
    with pytest.raises(ConfigError, match="lr_g"):
        apply_preset("seed000", lr_g=-1)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError) as e:
        apply_preset("seed999")
    assert e.value.field == "preset" and "recommended, seed000, seed004, dcgan-seed001, wgan-gp" in str(e.value)


@pytest.mark.parametrize("name", ["dcgan-seed001", "wgan-gp", "a_b", "x9", "_private"])
def test_registry_names_take_letters_digits_underscores_and_dashes(name):
    reg = Registry("thing")
    reg.add(name, 1)
    assert name in reg


@pytest.mark.parametrize("name", ["", "-flag", "with space", "dot.name", "slash/name", "café", None])
def test_registry_refuses_other_names(name):
    with pytest.raises(ValueError, match="letters, digits"):
        Registry("thing").add(name, 1)


# ---- colour (issue 22 item 5) -----------------------------------------------------------------
def test_colour32_is_the_measured_colour_recipe_and_pins_every_recipe_field():
    """benchmarks/colour_recipes.py's winner at 32 px (docs/PERF.md, colour recipes)."""
    cfg = apply_preset("colour32")
    assert (cfg.dataset, cfg.channels, cfg.image_size, cfg.background) == ("emoji", 3, 32, "white")
    assert (cfg.model, cfg.loss, cfg.batch_size, cfg.lr_g, cfg.lr_d, cfg.epochs) == (
        "cdcgan_compact", "hinge", 32, 1e-3, 1e-3, 60)
    assert "measurement" in PRESETS.get("colour32").description
    roles = {f.name: f.metadata["role"] for f in field_specs()}
    recipe = {n for n, role in roles.items() if role in ("arch", "fork", "live")} - NOT_RECIPE
    kind_only = {f.name for f in field_specs() if f.metadata["kinds"] and "gan" not in f.metadata["kinds"]}
    assert recipe - kind_only - set(preset_values("colour32")) == set()  # a new default never leaks in


@pytest.mark.parametrize("channels, size, expected", [(3, 32, "colour32"), (3, 28, "colour32"), (3, 44, "colour32"),
                                                      (1, 32, "recommended"), (1, 28, "recommended")])
def test_suggested_preset_gives_colour_data_the_colour_recipe(channels, size, expected):
    assert suggested_preset(channels, size) == expected


def test_suggested_preset_above_44_px_is_colour64_only_once_registered():
    expected = "colour64" if "colour64" in PRESETS else "recommended"  # registered only once measured
    assert suggested_preset(3, 64) == expected


def test_colour64_is_the_measured_64_px_recipe():
    cfg = apply_preset("colour64")
    assert (cfg.dataset, cfg.channels, cfg.image_size, cfg.model) == ("emoji", 3, 64, "cdcgan_compact")
    assert (cfg.diffaugment, cfg.batch_size, cfg.lr_g, cfg.epochs) == ("color,translation", 64, 2e-3, 30)
    assert suggested_preset(3, 64) == "colour64" and suggested_preset(3, 48) == "colour64"

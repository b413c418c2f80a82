import json

import pytest

from ganlib.store.config import ConfigError, TrainConfig
from ganlib.store.config_rules import check_against_data


def test_defaults_are_the_measured_recipe_and_the_seeds_are_presets():
    c = TrainConfig()
    assert (c.lr_g, c.lr_d, c.beta1, c.beta2, c.batch_size, c.latent_dim) == (2e-3, 2e-3, 0.5, 0.999, 64, 100)
    assert (c.dataset, c.model, c.loss, c.d_norm) == ("mnist5k", "cdcgan_compact", "hinge", "none")
    from ganlib.store.presets import apply_preset

    s0 = apply_preset("seed000")
    assert (s0.model, s0.loss, s0.lr_g, s0.batch_size) == ("mlp_gan", "nonsaturating", 2e-4, 128)


@pytest.mark.parametrize("changes, field", [
    ({"lr_g": -1e-4}, "lr_g"),
    ({"lr_d": 0.0}, "lr_d"),
    ({"lr_d": float("nan")}, "lr_d"),
    ({"model": "stylegan9"}, "model"),
    ({"dataset": "imagenet"}, "dataset"),
    ({"loss": "nope"}, "loss"),
    ({"beta1": 1.0}, "beta1"),
    ({"beta2": -0.1}, "beta2"),
    ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"dropout": 1.0}, "dropout"),
    ({"device": "gpu"}, "device"),
    ({"channels": 2}, "channels"),
    ({"image_size": 4}, "image_size"),
    ({"dataset": "folder"}, "data_path"),
    ({"sample_every": 0}, "sample_every"),
    ({"cpu_threads": -1}, "cpu_threads"),
])
def test_bad_values_name_the_field(changes, field):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**changes)
    assert e.value.field == field
    assert str(e.value).startswith(field + ":")


def test_from_dict_coerces_cli_strings():
    c = TrainConfig.from_dict({"epochs": "3", "lr_g": "1e-3", "dropout": "none", "channels": "3"})
    assert c.epochs == 3 and c.lr_g == 1e-3 and c.dropout is None and c.channels == 3


def test_from_dict_refuses_unknown_and_mistyped():
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_dict({"epochz": 3})
    assert e.value.field == "epochz"
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_dict({"epochs": "three"})
    assert e.value.field == "epochs"
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({"epochs": 2.5})


def test_json_round_trip():
    c = TrainConfig(model="cgan", dropout=0.1, seed=42)
    assert TrainConfig.from_json(c.to_json()) == c
    assert json.loads(c.to_json())["model"] == "cgan"
    assert c.replace(epochs=7).epochs == 7


def test_data_dependent_checks():
    with pytest.raises(ConfigError) as e:
        check_against_data(TrainConfig(batch_size=600), n_images=512, has_labels=True)
    assert e.value.field == "batch_size" and "512" in str(e.value)
    with pytest.raises(ConfigError) as e:
        check_against_data(TrainConfig(model="cgan"), n_images=5000, has_labels=False)
    assert e.value.field == "model" and "labels" in str(e.value)
    check_against_data(TrainConfig(model="cgan"), n_images=5000, has_labels=True)


def test_relevant_fields_follow_the_choices():
    from ganlib.store.config import relevant_fields

    wgan = relevant_fields({"model": "dcgan", "loss": "wgan"})
    assert {"clip_value", "n_critic", "d_norm", "patch_gan", "variant"} <= wgan
    assert "gp_weight" not in wgan and "label_smoothing" not in wgan
    gp = relevant_fields({"model": "mlp_gan", "loss": "wgan_gp"})
    assert "gp_weight" in gp and "clip_value" not in gp and "d_norm" not in gp and "variant" not in gp
    vae = relevant_fields({"model": "vae"})
    assert not {"loss", "lr_d", "n_critic", "spectral_norm", "d_norm"} & vae and "variant" in vae
    assert "label_smoothing" in relevant_fields({"model": "cgan", "loss": "nonsaturating"})
    assert "eval_samples" not in relevant_fields({"eval_every": 0})
    assert "cpu_threads" in relevant_fields({"device": "cpu"}) and "cpu_threads" in relevant_fields({"device": "auto"})
    assert "cpu_threads" not in relevant_fields({"device": "cuda"})

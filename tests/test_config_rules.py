"""One table of config rules: what it hides on the form is what it refuses (or ignores) in a
config, and every field's choices are enforced."""
import pytest

from ganlib.core.errors import ConfigError
from ganlib.models import MODELS
from ganlib.store.config import TrainConfig, field_specs, relevant_fields
from ganlib.store.config_rules import hidden_fields


def other_value(f):
    """A valid value of field `f` other than its default, or None when there is none to try."""
    meta, default = f.metadata, f.default
    if isinstance(default, bool):
        return not default
    if isinstance(default, (int, float)) and meta["min"] is not None and meta["max"] is not None:
        lo, hi = meta["min"], meta["max"]
        v = min(hi, max(lo, (default or lo) * 2 or lo + (hi - lo) / 4))
        v = type(default)(v) if v != default else type(default)(lo if default != lo else hi)
        return v if v != default else None
    if isinstance(meta.get("choices"), list):
        rest = [c for c in meta["choices"] if c != default]
        return rest[0] if rest else None
    return None


@pytest.mark.parametrize("model", MODELS.names())
@pytest.mark.parametrize("loss", ["hinge", "wgan", "nonsaturating"])
def test_a_hidden_field_is_refused_or_ignored_as_its_rule_says(model, loss):
    base = {"model": model, "loss": loss, "dataset": "edges2digits" if MODELS.get(model).translation else "mnist5k",
            "image_size": 28 if not MODELS.get(model).translation else 32}
    hidden = hidden_fields({**TrainConfig().to_dict(), **base}, field_specs())
    assert set(relevant_fields({**TrainConfig().to_dict(), **base})) == {f.name for f in field_specs()} - set(hidden)
    for f in field_specs():
        if f.name not in hidden or f.name in ("model", "loss", "dataset", "image_size", "data_path", "device",
                                               "latent_dim", "channels"):
            continue
        value = other_value(f)
        if value is None:
            continue
        if hidden[f.name]:
            with pytest.raises(ConfigError) as e:
                TrainConfig(**base, **{f.name: value})
            assert e.value.field == f.name, (f.name, str(e.value))
        else:
            try:
                TrainConfig(**base, **{f.name: value})
            except ConfigError as e:  # another rule may refuse the value itself; never this hidden field
                assert e.field != f.name or "must be" in str(e), (f.name, str(e))


def test_label_smoothing_is_hidden_and_refused_for_a_loss_without_bce_targets():
    assert "label_smoothing" not in relevant_fields({"model": "dcgan", "loss": "hinge"})
    assert "label_smoothing" in relevant_fields({"model": "dcgan", "loss": "nonsaturating"})
    with pytest.raises(ConfigError, match="label smoothing changes BCE targets; loss hinge"):
        TrainConfig(model="dcgan", loss="hinge", label_smoothing=0.1)
    TrainConfig(model="dcgan", loss="hinge", clip_value=0.05)  # hidden, ignored: a preset may carry it


@pytest.mark.parametrize("field,value,words", [("direction", "sideways", "AtoB or BtoA"),
                                               ("d_norm", "group", "batch, layer or none"),
                                               ("channels", 2, "1 or 3"), ("device", "tpu", "cuda:N"),
                                               ("extractor", "clip", "auto or one of"), ("loss", "l2", "unknown loss")])
def test_every_fields_choices_are_enforced(field, value, words):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**{field: value})
    assert e.value.field == field and words in str(e.value)
    assert TrainConfig(device="cuda:1").device == "cuda:1"  # the pattern admits what the list cannot hold


def test_a_model_declares_what_its_architecture_cannot_take():
    assert set(MODELS.get("cdcgan_compact").unsupported) == {"minibatch_std", "patch_gan"}
    assert "minibatch_std" not in relevant_fields({"model": "cdcgan_compact"})
    with pytest.raises(ConfigError, match="small discriminator"):
        TrainConfig(model="cdcgan_compact", minibatch_std=True)

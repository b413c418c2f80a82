"""Feature extractors: the shipped digit classifier is accurate on held-out digits and its
standardised features put FID on a scale a reader can place (held-out real digits near 0, an
untrained generator in the hundreds), the FID Inception has pytorch-fid's layout and keys and
bias-free logits for IS, both stay frozen in eval mode, and a missing Inception file fails fast
with instructions instead of a network traceback.

Inception on CPU is slow at 299x299: only batches of 2 images go through it here."""
import json
import socket
import time
import urllib.error

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor
from ganlib.metrics import extractor_inception as inc
from ganlib.metrics.extractor_digits import (
    DEFAULT_WEIGHTS,
    DigitClassifierExtractor,
    make_digit_classifier,
    to_digit_input,
)
from ganlib.metrics.extractor_inception import (
    FID_WEIGHTS_FILE,
    FID_WEIGHTS_URL,
    WEIGHTS_ENV,
    InceptionExtractor,
    fid_inception_v3,
    make_inception,
)
from ganlib.metrics.train_digit_classifier import indices_digest, load_digits, split_indices
from ganlib.models import build_models
from ganlib.store.config import TrainConfig
from tests.helpers import reference_fid_of

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def inception_random():
    return make_inception(random_weights=True)


@pytest.fixture(scope="module")
def inception_out(inception_random):
    """One (2, 1, 28, 28) batch and its features and logits: each forward costs seconds."""
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    return (x, *inception_random.features_and_logits(x))


@pytest.fixture(scope="module")
def digits_ext():
    return make_digit_classifier()


# --- digits ---

def test_registry_has_both_extractors(digits_ext, inception_random):
    assert {"digits", "inception"} <= set(FEATURE_EXTRACTORS.names())
    for ext, name, dim, classes in ((digits_ext, "digits", 128, 10),
                                    (inception_random, "inception", 2048, 1008)):
        assert isinstance(ext, FeatureExtractor)
        assert (ext.name, ext.feature_dim, ext.num_classes) == (name, dim, classes)
        assert ext.description
    assert isinstance(digits_ext, DigitClassifierExtractor)
    assert isinstance(inception_random, InceptionExtractor)
    assert "RANDOM" in inception_random.description and not inception_random.pretrained


@pytest.mark.slow
def test_digit_weights_reach_99_percent_on_the_held_out_split(digits_ext):
    meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert DEFAULT_WEIGHTS.stat().st_size == meta["weights_bytes"] < 5_000_000
    images, labels = load_digits()
    train, test = split_indices(labels, meta["split"]["seed"])
    assert indices_digest(test) == meta["split"]["test_indices_sha256"]  # the very same split
    assert len(test) == 1000 and not set(train.tolist()) & set(test.tolist())
    assert torch.bincount(labels[test]).tolist() == [100] * 10
    acc = (digits_ext.logits(images[test]).argmax(1) == labels[test]).float().mean().item()
    assert acc >= 0.99
    assert abs(acc - meta["test_accuracy"]) < 0.002  # what the json claims is what it does




@pytest.fixture(scope="module")
def split_features(digits_ext):
    images, labels = load_digits()
    train, test = split_indices(labels, 0)
    return (digits_ext.features(images[train]).double().numpy(),
            digits_ext.features(images[test]).double().numpy())


@pytest.mark.slow
def test_digit_features_are_standardised_on_the_training_digits(split_features):
    f_train, _ = split_features
    np.testing.assert_allclose(f_train.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(f_train.std(0, ddof=1), 1, rtol=1e-4)


@pytest.mark.slow
def test_digit_fid_scale_held_out_real_near_zero_untrained_generator_in_the_hundreds(digits_ext, split_features):
    f_train, f_test = split_features
    heldout = reference_fid_of(f_train, f_test)
    meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert heldout == pytest.approx(meta["features"]["heldout_fid"], rel=1e-3)  # as the json says
    assert 0 <= heldout < 1  # 1,000 held-out real digits against the 4,000 training digits
    for model in ("mlp_gan", "cgan", "dcgan"):
        cfg = TrainConfig(model=model)
        torch.manual_seed(0)
        G, _ = build_models(cfg, 10)
        with torch.no_grad():
            x = G.eval()(torch.randn(1000, cfg.latent_dim), torch.arange(1000) % 10)
        fid = reference_fid_of(f_train, digits_ext.features(x).double().numpy())
        assert 100 < fid < 1000, (model, fid)  # was 15,000 to 25,000 on the raw post-ReLU features


@pytest.mark.parametrize("device", DEVICES)
def test_digit_features_shapes_inputs_and_determinism(device):
    ext = make_digit_classifier(device)
    g = torch.Generator().manual_seed(0)
    gray = torch.rand(5, 1, 28, 28, generator=g) * 2 - 1
    f, logits = ext.features_and_logits(gray)
    assert f.shape == (5, 128) and logits.shape == (5, 10) and f.dtype == torch.float32
    assert torch.equal(f, ext.features(gray)) and torch.equal(logits, ext.logits(gray))
    assert torch.equal(ext.features(gray), ext.features(gray))
    # Standardised pre-activations: signed; the head reads their ReLU, undone standardisation.
    assert (f < 0).any() and (f > 0).any()
    std = ext.net.standardise
    torch.testing.assert_close(logits, ext.net.head(torch.relu(f * std.std + std.mean)))
    # Gray repeated over RGB is the same image; other sizes come down to 28x28.
    torch.testing.assert_close(ext.features(gray.expand(-1, 3, -1, -1)), f)
    assert ext.features(torch.rand(3, 3, 64, 64) * 2 - 1).shape == (3, 128)
    assert torch.equal(to_digit_input(gray), gray)


def test_missing_digit_weights_say_how_to_make_them(tmp_path):
    with pytest.raises(ExtractorUnavailable, match="train_digit_classifier"):
        make_digit_classifier(weights=str(tmp_path / "none.safetensors"))
    # A file from before the standardisation (no standardise.* buffers) is refused the same way.
    old = {k: v for k, v in load_file(str(DEFAULT_WEIGHTS)).items() if not k.startswith("standardise.")}
    save_file(old, str(tmp_path / "old.safetensors"))
    with pytest.raises(ExtractorUnavailable, match="lacks standardise.mean, standardise.std"):
        make_digit_classifier(weights=str(tmp_path / "old.safetensors"))


# --- eval mode, frozen weights ---

def test_digits_eval_mode_sticks_and_weights_are_frozen(digits_ext):
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    before = digits_ext.features_and_logits(x)
    digits_ext.train()
    nn.Sequential(digits_ext).train(True)  # a parent module switching its children
    assert not any(m.training for m in digits_ext.modules())
    assert not any(p.requires_grad for p in digits_ext.parameters())
    after = digits_ext.features_and_logits(x.requires_grad_())
    assert torch.equal(after[0], before[0]) and torch.equal(after[1], before[1])  # no Dropout
    assert not after[0].requires_grad


def test_inception_eval_mode_sticks_and_weights_are_frozen(inception_random, inception_out):
    x, f, _ = inception_out
    inception_random.train()
    nn.Sequential(inception_random).train(True)
    assert not any(m.training for m in inception_random.modules())
    assert not any(p.requires_grad for p in inception_random.parameters())
    assert torch.equal(inception_random.features(x.clone().requires_grad_()), f)  # BN in eval


# --- inception ---

def test_inception_random_weights_take_digits_and_give_pool3_and_logits(inception_random,
                                                                         inception_out):
    x, f, logits = inception_out
    assert f.shape == (2, 2048) and logits.shape == (2, 1008)
    assert f.dtype == logits.dtype == torch.float32 and torch.isfinite(f).all()
    assert (f >= 0).all()  # average of ReLU outputs
    fc = inception_random.net.fc
    # IS logits as the original IS code and torch-fidelity: pool3 @ fc.weight.T, no bias.
    torch.testing.assert_close(logits, f @ fc.weight.T)
    assert fc.bias.abs().max() > 0 and not torch.allclose(logits, fc(f))  # the bias would matter


def test_inception_preprocessing_is_pytorch_fids(inception_random):
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    y = inception_random.preprocess(x)
    assert y.shape == (2, 3, 299, 299)
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])  # PIL convert('RGB')
    # pytorch-fid: [0, 1] images, bilinear resize to 299 (align_corners=False), then 2x - 1.
    ref = torch.nn.functional.interpolate((x.expand(-1, 3, -1, -1) + 1) / 2, size=(299, 299),
                                          mode="bilinear", align_corners=False) * 2 - 1
    assert torch.equal(y, ref)
    assert y.min() >= -1 and y.max() <= 1
    for v in (-1.0, 1.0):  # black stays -1 and white +1 (to float rounding: the interpolation
        # weights sum to 1 only up to an ulp, and which kernel runs depends on the thread count)
        torch.testing.assert_close(inception_random.preprocess(torch.full((1, 3, 8, 8), v)),
                                   torch.full((1, 3, 299, 299), v), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        inception_random.preprocess(torch.zeros(1, 2, 8, 8))


@pytest.mark.parametrize("device", DEVICES)
def test_inception_amp_returns_float32(device, inception_random, inception_out):
    """bf16 autocast on CUDA; on the CPU the flag changes nothing."""
    x, f_ref, _ = inception_out
    net = inception_random.net if device == "cpu" else fid_inception_v3()
    ext = InceptionExtractor(net, pretrained=False, amp=True).to(device)
    f, logits = ext.features_and_logits(x.to(device))
    assert f.dtype == logits.dtype == torch.float32 and f.shape == (2, 2048)
    if device == "cpu":
        assert torch.equal(f, f_ref)


# A sample of the key names in pytorch-fid's pt_inception-2015-12-05-6726825d.pth (torchvision's
# Inception3 names, no AuxLogits, 1008-way fc).
PYTORCH_FID_KEYS = [
    "Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.weight", "Conv2d_1a_3x3.bn.running_mean",
    "Conv2d_2a_3x3.conv.weight", "Conv2d_2b_3x3.bn.bias", "Conv2d_3b_1x1.conv.weight",
    "Conv2d_4a_3x3.bn.running_var",
    "Mixed_5b.branch1x1.conv.weight", "Mixed_5b.branch5x5_1.conv.weight",
    "Mixed_5b.branch3x3dbl_3.bn.running_var", "Mixed_5b.branch_pool.conv.weight",
    "Mixed_5d.branch5x5_2.bn.weight", "Mixed_6a.branch3x3.conv.weight",
    "Mixed_6a.branch3x3dbl_3.bn.bias", "Mixed_6b.branch7x7_1.conv.weight",
    "Mixed_6e.branch7x7dbl_5.bn.running_mean", "Mixed_7a.branch3x3_2.conv.weight",
    "Mixed_7a.branch7x7x3_4.bn.weight", "Mixed_7b.branch3x3_2a.conv.weight",
    "Mixed_7b.branch3x3dbl_3b.bn.running_var", "Mixed_7c.branch3x3_2b.bn.bias",
    "Mixed_7c.branch_pool.conv.weight", "fc.weight", "fc.bias",
]


def test_inception_state_dict_matches_pytorch_fids_checkpoint(inception_random):
    net = inception_random.net
    sd = net.state_dict()
    assert set(PYTORCH_FID_KEYS) <= set(sd)
    assert not any(k.startswith("AuxLogits") for k in sd)
    assert sd["fc.weight"].shape == (1008, 2048) and sd["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert sd["Mixed_7c.branch_pool.conv.weight"].shape == (192, 2048, 1, 1)
    # torchvision's Inception3: 27,161,264 parameters; less AuxLogits (3,326,696); fc 1000 -> 1008
    # classes (+8 * 2049).
    assert sum(p.numel() for p in net.parameters()) == 27_161_264 - 3_326_696 + 8 * 2049
    # The FID blocks: avg pools that skip padding in 5b-5d, 6b-6e, 7b; a max pool in 7c.
    assert [type(getattr(net, n)).__name__ for n in ("Mixed_5b", "Mixed_6e", "Mixed_7b", "Mixed_7c")] \
        == ["FIDInceptionA", "FIDInceptionC", "FIDInceptionE_1", "FIDInceptionE_2"]


def test_inception_loads_a_checkpoint_by_argument_and_env(tmp_path, monkeypatch, inception_random):
    state = {k: v.clone() for k, v in inception_random.net.state_dict().items()}
    g = torch.Generator().manual_seed(3)
    for k in ("fc.weight", "Mixed_7c.branch_pool.bn.running_var"):
        state[k] = torch.rand(state[k].shape, generator=g) + 0.5
    old_style = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / FID_WEIGHTS_FILE
    torch.save(old_style, path)  # older checkpoints lack num_batches_tracked: still loads
    ext = make_inception(weights=str(path))
    assert ext.pretrained and torch.equal(ext.net.state_dict()["fc.weight"], state["fc.weight"])
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    ext = make_inception()
    assert torch.equal(ext.net.state_dict()["Mixed_7c.branch_pool.bn.running_var"],
                       state["Mixed_7c.branch_pool.bn.running_var"])
    torch.save({"fc.weight": state["fc.weight"]}, tmp_path / "wrong.pth")
    with pytest.raises(ExtractorUnavailable, match="not pytorch-fid's Inception checkpoint"):
        make_inception(weights=str(tmp_path / "wrong.pth"))


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No weights anywhere and no network: env var at a missing file, an empty hub dir, and
    connections refused at once (so a machine that is online does not download 90 MB)."""
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "missing.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def refuse(*a, **k):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return tmp_path


def test_offline_without_weights_raises_with_instructions(offline, monkeypatch):
    def no_download(*a, **k):
        raise AssertionError("a download was attempted although the host is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    t0 = time.time()
    with pytest.raises(ExtractorUnavailable) as err:
        make_inception()
    assert time.time() - t0 < 10
    msg = str(err.value)
    assert FID_WEIGHTS_URL in msg and WEIGHTS_ENV in msg
    assert str(offline / "hub" / "checkpoints" / FID_WEIGHTS_FILE) in msg
    assert str(offline / "missing.pth") in msg
    with pytest.raises(ExtractorUnavailable, match="no file at weights="):
        make_inception(weights=str(offline / "also-missing.pth"))


def test_a_failing_download_becomes_extractor_unavailable(offline, monkeypatch):
    class Conn:
        def close(self):
            pass

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: Conn())

    def broken(*a, **k):
        raise urllib.error.URLError("connection reset (test)")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", broken)
    with pytest.raises(ExtractorUnavailable, match="download failed: URLError") as err:
        inc.find_inception_weights()
    assert FID_WEIGHTS_URL in str(err.value) and err.value.__cause__ is None

"""The Latent explorer's library: the math on generators whose answer is known, then its helpers
on tiny real runs (the page is tested in test_page_latent_explorer.py)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from ganlib.explore import latent as lx  # noqa: E402
from ganlib.models.handle import GeneratorHandle  # noqa: E402
from ganlib.models.mlp_gan import MLPGenerator  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402
from tests.helpers import run  # noqa: E402

TINY = dict(max_images=256, batch_size=64, epochs=1, device="cpu", eval_every=0)


# ---- synthetic generators ----------------------------------------------------------------
class LinearG(nn.Module):
    """z -> W z + b -> pixels, with W = A diag(s) B^T: the first layer's principal components
    are A's columns with variances s^2, produced by the z-directions B's columns."""

    def __init__(self, s, hidden: int, seed: int = 0):
        super().__init__()
        d = len(s)
        g = torch.Generator().manual_seed(seed)
        A, _ = torch.linalg.qr(torch.randn(hidden, d, generator=g))
        B, _ = torch.linalg.qr(torch.randn(d, d, generator=g))
        self.B = B
        self.first = nn.Linear(d, hidden)
        self.out = nn.Linear(hidden, 16)
        with torch.no_grad():
            self.first.weight.copy_(A @ torch.diag(torch.as_tensor(s, dtype=torch.float32)) @ B.T)

    def forward(self, z, labels=None):
        return torch.tanh(self.out(self.first(z))).view(-1, 1, 4, 4)


@pytest.mark.parametrize("hidden", [32, 1100])  # exact covariance path and pca_lowrank path
def test_directions_recover_the_known_directions_of_a_linear_generator(hidden):
    s = [10.0, 5.0, 3.0, 2.0, 1.0, 0.5]
    G = LinearG(s, hidden).eval()
    d = lx.find_directions(GeneratorHandle(G, len(s)), n=2000, k=4)
    assert d.layer == "first"  # no activation after the first Linear: the layer itself
    assert d.vectors.shape == (4, len(s))
    for i in range(3):
        assert abs(float(np.dot(d.vectors[i], G.B[:, i].numpy()))) > 0.99, i
    assert d.variance[:3] == pytest.approx(np.square(s[:3]), rel=0.15)
    assert d.variance_ratio[0] == pytest.approx(100 / sum(np.square(s)), rel=0.15)
    again = lx.find_directions(GeneratorHandle(G, len(s)), n=2000, k=4)
    np.testing.assert_array_equal(d.vectors, again.vectors)  # its own RNG: repeatable


def test_directions_are_orthonormal_and_sorted_by_variance():
    G = MLPGenerator(16, (1, 8, 8)).eval()
    d = lx.find_directions(GeneratorHandle(G, 16), n=400, k=8)
    assert d.layer == "net.1"  # the first block's activation
    np.testing.assert_allclose(d.vectors @ d.vectors.T, np.eye(8), atol=1e-5)
    assert np.all(np.diff(d.variance) <= 1e-12)
    assert np.all(d.variance_ratio > 0) and d.variance_ratio.sum() <= 1 + 1e-9
    assert d.label is None


def test_layers_follow_the_forward_pass_and_skip_the_vae_encoder():
    from ganlib.models.vae import MLPVAE

    found = lx.layers(GeneratorHandle(MLPVAE(8, (1, 8, 8)), 8))
    assert [layer.name for layer in found] == ["fc3", "fc4"]  # the encoder (fc1, fc21, fc22) never runs
    assert lx.default_layer(found) == "fc3"
    g = lx.layers(GeneratorHandle(MLPGenerator(16, (1, 8, 8)), 16))
    assert [layer.kind for layer in g][:2] == ["Linear", "ReLU"] and g[0].features == 256


def test_move_adds_scaled_directions():
    vecs = np.eye(4, dtype=np.float32)[:2]
    z = np.ones(4, np.float32)
    np.testing.assert_allclose(lx.move(z, vecs, [2.0, -1.0]), [3, 0, 1, 1])
    np.testing.assert_allclose(lx.move(z, vecs, []), z)
    with pytest.raises(ValueError):
        lx.move(z, vecs, [1, 2, 3])


# ---- truncation --------------------------------------------------------------------------
def test_truncation_at_psi_one_is_the_identity():
    z = lx.seed_latents(range(5), 32)
    np.testing.assert_array_equal(lx.truncate(z, 1.0), z)
    np.testing.assert_array_equal(lx.apply_truncation(z, "scale", 1.0), z)
    np.testing.assert_array_equal(lx.apply_truncation(z, "resample", math.inf), z)
    np.testing.assert_allclose(lx.truncate(z, 0.5), z * 0.5)
    np.testing.assert_array_equal(lx.truncate(z, 0.0), np.zeros_like(z))
    r = lx.truncate_resample(z, 1.0)
    inside = np.abs(z) <= 1.0
    assert np.all(np.abs(r) <= 1.0) and np.array_equal(r[inside], z[inside]) and not np.array_equal(r, z)
    np.testing.assert_array_equal(r, lx.truncate_resample(z, 1.0))  # repeatable
    with pytest.raises(ValueError):
        lx.apply_truncation(z, "clip", 1.0)


def test_truncated_generator_is_G_at_psi_one_and_keeps_its_mode():
    G = MLPGenerator(16, (1, 8, 8)).eval()
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))
    T = lx.Truncated(G, "scale", 1.0)
    assert not T.training
    with torch.no_grad():
        assert torch.equal(T(z), G(z))
        assert torch.equal(lx.Truncated(G, "scale", 0.5)(z), G(z * 0.5))
    T.eval()
    assert not G.training


# ---- grid, arithmetic ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_corner_grid_has_the_corners_exactly(mode):
    corners = lx.seed_latents([1, 2, 3, 4], 24)
    g = lx.corner_grid(corners, 5, 4, mode)
    assert g.shape == (5, 4, 24)
    for (r, c), k in zip([(0, 0), (0, -1), (-1, 0), (-1, -1)], range(4)):
        np.testing.assert_array_equal(g[r, c], corners[k])
    if mode == "linear":
        np.testing.assert_allclose(g[2, 0], (corners[0] + corners[2]) / 2, atol=1e-6)  # left edge midpoint
        g3 = lx.corner_grid(corners, 3, 3, "linear")
        np.testing.assert_allclose(g3[1, 1], corners.mean(0), atol=1e-6)  # bilinear centre
    else:  # slerp keeps the norm between the corners' norms along an edge
        n = np.linalg.norm(g[:, 0], axis=1)
        lo, hi = sorted([np.linalg.norm(corners[0]), np.linalg.norm(corners[2])])
        assert np.all(n >= lo - 1e-4) and np.all(n <= hi + 1e-4)
    with pytest.raises(ValueError):
        lx.corner_grid(corners[:3], 3, 3, mode)


def test_latent_arithmetic_on_known_vectors():
    a = np.array([[1.0, 0, 0], [3.0, 0, 0]])
    b = np.array([[0, 2.0, 0]])
    c = np.array([[0, 0, 4.0], [0, 0, 2.0]])
    np.testing.assert_allclose(lx.latent_arithmetic(a, b, c), [2, -2, 3])
    np.testing.assert_allclose(lx.latent_arithmetic(a), [2, 0, 0])
    np.testing.assert_allclose(lx.latent_arithmetic(a, [], c), [2, 0, 3])
    np.testing.assert_allclose(lx.combine_means([(0.5, a), (-2.0, b)]), [1, -4, 0])
    with pytest.raises(ValueError):
        lx.latent_arithmetic([], b)


# ---- favourites ----------------------------------------------------------------------------
def test_favourites_round_trip(tmp_path):
    run_dir = tmp_path / "00000-mlp_gan-mnist5k"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(TrainConfig().to_json())
    run = Run(run_dir)
    assert lx.load_favourites(run) == []
    z = lx.seed_latent(7, 100)
    lx.add_favourite(run, lx.Favourite("seven", z.tolist(), seed=7))
    lx.add_favourite(run, lx.Favourite("three", [0.5] * 100, label=3))
    lx.add_favourite(run, lx.Favourite("seven", (z * 2).tolist(), seed=7))  # same name: replaced
    favs = lx.load_favourites(str(run_dir))
    assert [f.name for f in favs] == ["three", "seven"]
    assert favs[1].seed == 7 and favs[1].label is None and np.allclose(favs[1].latent, z * 2)
    assert favs[0].label == 3 and favs[0].seed is None
    doc = json.loads((run_dir / "favourites.json").read_text())
    assert {"name", "seed", "latent", "label"} <= set(doc["favourites"][0])
    assert lx.remove_favourite(run, "three")[0].name == "seven"
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []  # atomic writes
    (run_dir / "favourites.json").write_text("{broken")
    with pytest.raises(ValueError, match="not valid JSON"):
        lx.load_favourites(run)
    with pytest.raises(ValueError):
        lx.add_favourite(run, lx.Favourite("x", [0.0] * 100))  # a damaged file is not overwritten


# ---- tiny real runs ------------------------------------------------------------------------
@pytest.fixture
def trained(runs_copy):
    """This module's copy of the session's tiny runs (conftest.image_runs)."""
    return runs_copy


def test_truncation_curve_is_measured_once_and_cached(trained, monkeypatch):
    run = trained.mlp
    curve = lx.truncation_curve(run, method="scale", values=[0.5, 1.0], n=64)
    assert curve.values == [0.5, 1.0] and curve.n == 64 and curve.extractor.startswith("digits")
    assert all(0 <= p <= 1 for p in curve.column("precision") + curve.column("recall"))
    path = lx.curve_path(run, method="scale", n=64)
    assert path.is_file() and path.parent == run.path / "explorer"
    # psi = 1 is the untruncated generator: the same FID as score_images() on G itself
    from ganlib.data import cached_run_data
    from ganlib.explore.sampling import get_generator
    from ganlib.metrics.evaluation import score_images
    from ganlib.metrics.extractor_choice import get_extractor
    from ganlib.metrics.reference import real_reference

    h = get_generator(run)
    data = cached_run_data(run.config())
    ext = get_extractor("digits")
    ref = real_reference(data.images, data.labels, ext, 64)
    plain = score_images(h, ref, ext, n=64, n_boot=2, kid_subsets=5)
    assert curve.column("fid")[1] == pytest.approx(plain.row["fid"], rel=1e-5)
    assert not h.G.training

    def boom(*a, **k):
        raise AssertionError("recomputed a cached curve")

    monkeypatch.setattr("ganlib.metrics.evaluation.score_images", boom)
    again = lx.truncation_curve(run, method="scale", values=[0.5, 1.0], n=64)
    assert again.rows == curve.rows
    assert lx.load_truncation_curve(run, method="scale", n=64).rows == curve.rows
    assert lx.load_truncation_curve(run, method="resample", n=64) is None


def test_run_helpers_on_a_conditional_run(trained):
    run = trained.cgan
    d = lx.run_directions(run, label=3, n=300, k=5)
    assert d.label == 3 and len(d) == 5 and d.layer == "net.1"
    z = lx.seed_latent(0, 100)
    strips = lx.direction_strips(run, z, d, steps=5, label=3, scale=1)
    assert len(strips) == 5 and strips[0].width > strips[0].height
    morph = lx.class_morph(run, np.stack([z, z]), 3, 8, 6, scale=1)
    assert len(morph) == 2 and morph[0].size == morph[1].size
    with pytest.raises(ValueError, match="unconditional"):
        lx.class_morph(trained.mlp, z, 0, 1)


def test_train_defaults_fill_the_config_form():
    """What the Train page does with a clone: `config_form(defaults=train_defaults())`."""

    def script():
        import streamlit as st

        from ganlib.ui.config_form import config_form, train_defaults

        st.session_state["_values"] = config_form(defaults=train_defaults(), prefix="cfg")

    at = AppTest.from_function(script, default_timeout=60)
    run(at)
    at.number_input(key="cfg_max_images").set_value(300)  # the user had edited the form
    at.number_input(key="cfg_seed").set_value(5)
    run(at)
    cfg = TrainConfig(model="cgan", lr_g=3e-4, dropout=0.35, max_images=256, batch_size=64, epochs=7,
                      device="cpu", ema_decay=0.999, latent_dim=64).to_dict()
    at.session_state["train_prefill"] = cfg
    run(at)
    assert at.session_state["_values"] == cfg and "train_prefill" not in at.session_state
    assert at.session_state["train_mode"] == "New run"
    run(at)  # stays filled on later reruns, and edits still work
    assert at.session_state["_values"] == cfg
    at.number_input(key="cfg_max_images").set_value(512)
    run(at)
    assert at.session_state["_values"]["max_images"] == 512

"""Latent explorer and Compare runs: the math on generators whose answer is known, then both
pages through AppTest on tiny real runs (one epoch on 256 digits, on the CPU)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ganlib.engine.training import train  # noqa: E402
from ganlib.explore import latent as lx  # noqa: E402
from ganlib.explore import run_comparison as compare  # noqa: E402
from ganlib.models.handle import GeneratorHandle  # noqa: E402
from ganlib.models.mlp_gan import MLPGenerator  # noqa: E402
from ganlib.store.config import TrainConfig  # noqa: E402
from ganlib.store.run_folder import Run  # noqa: E402

TINY = dict(max_images=256, batch_size=64, epochs=1, device="cpu", eval_every=0)
NEW_PAGES = ["pages/7_Latent_explorer.py", "pages/9_Compare_runs.py"]


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
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    mlp = train(TrainConfig(model="mlp_gan", **TINY), runs_dir=root).run
    cgan = train(TrainConfig(model="cgan", lr_g=3e-4, **TINY), runs_dir=root).run
    fresh = root / "00002-mlp_gan-mnist5k"
    fresh.mkdir()
    (fresh / "config.json").write_text((mlp.path / "config.json").read_text())
    return SimpleNamespace(root=root, mlp=mlp, cgan=cgan, fresh=fresh.name)


@pytest.fixture
def runs(trained, monkeypatch):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(trained.root))
    return trained


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
    from ganlib.metrics.evaluation import get_extractor, score_images
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


# ---- pages ---------------------------------------------------------------------------------
def page(path: str) -> AppTest:
    return AppTest.from_file(str(REPO / path), default_timeout=120)


def run_page(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> list[str]:
    return [im.caption for el in at.image for im in el.proto.imgs]




def test_explorer_edits_the_latent_and_pins_a_favourite(runs):
    at = page(NEW_PAGES[0])
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_k"] = 4
    run_page(at)
    assert captions(at)[0] == "seed 0"
    first = at.image[0].value
    assert len(at.image) == 1 + 4  # the latent and one strip per direction
    at.slider(key="lx_dir_0").set_value(2.0)
    run_page(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0" and at.image[0].value != first
    at.slider(key="lx_psi").set_value(0.5)
    run_page(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, ψ 0.5"
    at.radio(key="lx_trunc_method").set_value("resample")
    run_page(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0"  # threshold off
    at.select_slider(key="lx_threshold").set_value(1.0)
    run_page(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, threshold 1"
    at.radio(key="lx_trunc_method").set_value("scale")
    run_page(at)
    assert captions(at)[0] == "seed 0 + PC1 +2.0, ψ 0.5"  # each method keeps its value
    at.text_input(key="lx_pin_name").input("pc1 up")
    at.button(key="FormSubmitter:lx_pin_form-Pin as favourite").click()
    run_page(at)
    assert any("pc1 up" in s.value for s in at.success)
    (fav,) = lx.load_favourites(runs.mlp)
    assert fav.name == "pc1 up" and fav.seed is None and len(fav.latent) == 100

    at.button(key="lx_random").click()
    run_page(at)
    seed = at.number_input(key="lx_seed").value
    assert captions(at)[0].startswith(f"seed {seed} + PC1")

    at.session_state["lx_tab"] = "Favourites"
    run_page(at)
    assert "pc1 up" in captions(at)
    at.button(key="lx_fav_load").click()
    run_page(at)
    assert captions(at)[0].startswith("favourite 'pc1 up'")  # direction sliders reset to 0
    assert at.session_state["lx_dir_0"] == 0.0
    at.button(key="lx_fav_delete").click()
    run_page(at)
    assert lx.load_favourites(runs.mlp) == [] and at.info


def test_explorer_grid_arithmetic_and_truncation_curve(runs, monkeypatch):
    monkeypatch.setitem(lx.CURVE_VALUES, "scale", (0.5, 1.0))
    at = page(NEW_PAGES[0])
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_k"] = 2
    run_page(at)
    at.session_state["lx_tab"] = "Corner grid"
    run_page(at)
    at.slider(key="lx_grid_n").set_value(3)
    at.radio(key="lx_grid_mode").set_value("linear")
    run_page(at)
    assert "3×3, bilinear" in captions(at)

    at.session_state["lx_tab"] = "Arithmetic"
    run_page(at)
    assert [f"#{i}" for i in range(16)] == captions(at)[1:17]
    at.multiselect(key="lx_ar_a").set_value([0, 1])
    at.multiselect(key="lx_ar_b").set_value([2])
    run_page(at)
    assert captions(at)[-3:] == ["mean(A)", "mean(B)", "= mean(A) − mean(B)"]
    at.button(key="lx_ar_use").click()
    run_page(at)
    assert captions(at)[0] == "arithmetic mean(A) − mean(B)"

    at.session_state["lx_tab"] = "Truncation curve"
    run_page(at)
    assert any("Not measured yet" in i.value for i in at.info)
    at.select_slider(key="lx_curve_n").set_value(500)
    at.button(key="lx_curve_go").click()
    run_page(at)
    assert at.get("plotly_chart") and not at.error
    run_page(at)  # measured once: the next visit reads the cached curve
    assert at.get("plotly_chart") and at.button(key="lx_curve_go").label == "Measure again"
    assert lx.load_truncation_curve(runs.mlp, method="scale", n=500).values == [0.5, 1.0]
    assert any("N capped" in c.value for c in at.caption)  # 256 images in the data


def test_explorer_conditional_class_morph(runs):
    at = page(NEW_PAGES[0])
    at.session_state["lx_run"] = runs.cgan.name
    at.session_state["lx_k"] = 2
    run_page(at)
    at.selectbox(key="lx_label").set_value(3)
    run_page(at)
    assert captions(at)[0] == "seed 0, class 3"
    at.session_state["lx_tab"] = "Class morph"
    run_page(at)
    at.selectbox(key="lx_morph_b").set_value(8)
    at.slider(key="lx_morph_rows").set_value(1)
    run_page(at)
    assert len(at.image[-1].proto.imgs) == 2  # the current latent and one more seed
    assert any("from 3 to 8" in c.value for c in at.caption)


def test_explorer_unconditional_morph_and_missing_checkpoint(runs):
    at = page(NEW_PAGES[0])
    at.session_state["lx_run"] = runs.mlp.name
    at.session_state["lx_tab"] = "Class morph"
    at.session_state["lx_k"] = 1
    run_page(at)
    assert any("unconditional" in i.value for i in at.info)
    at.selectbox(key="lx_run").set_value(runs.fresh)
    run_page(at)
    assert any("no checkpoint" in e.value for e in at.error) and not at.image


@pytest.mark.parametrize("path", NEW_PAGES)
def test_new_pages_without_runs_point_to_train(tmp_path, monkeypatch, path):
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(tmp_path))
    at = run_page(page(path))
    assert any("Train" in i.value for i in at.info) and not at.image


def test_compare_shows_differences_curves_grids(runs):
    at = page(NEW_PAGES[1])
    at.session_state["cmp_runs"] = [runs.mlp.name, runs.cgan.name]
    run_page(at)
    df = at.dataframe[0].value
    assert list(df.columns) == ["run", "model", "lr_g"]  # only what differs
    assert list(df["model"]) == ["mlp_gan", "cgan"]
    assert at.multiselect(key="cmp_metrics").value == ["d_loss", "g_loss"]
    fig = at.get("plotly_chart")[0]
    assert len(json.loads(fig.proto.spec)["data"]) == 4  # 2 runs x 2 metrics on shared axes
    assert captions(at) == ["epoch 1", "epoch 1"]
    at.multiselect(key="cmp_runs").set_value([runs.mlp.name])
    run_page(at)
    assert "pick another" in at.caption[0].value and len(at.dataframe) == 1  # only "All settings"


def test_compare_clones_a_run_into_train(runs):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    run_page(at)
    at.switch_page(NEW_PAGES[1])
    at.session_state["cmp_runs"] = [runs.mlp.name, runs.cgan.name]
    run_page(at)
    at.button(key=f"cmp_clone_{runs.cgan.name}").click()
    run_page(at)
    assert at.title[0].value == "Train"
    want = compare.clone_config(runs.cgan)
    if "train_prefill" in at.session_state:  # the Train page has not consumed it (yet)
        assert at.session_state["train_prefill"] == want
    else:
        assert at.selectbox(key="cfg_model").value == "cgan"


def test_train_defaults_fill_the_config_form():
    """What the Train page does with a clone: `config_form(defaults=train_defaults())`."""

    def script():
        import streamlit as st

        from ganlib.ui.config_form import config_form, train_defaults

        st.session_state["_values"] = config_form(defaults=train_defaults(), prefix="cfg")

    at = AppTest.from_function(script, default_timeout=60)
    run_page(at)
    at.number_input(key="cfg_max_images").set_value(300)  # the user had edited the form
    at.number_input(key="cfg_seed").set_value(5)
    run_page(at)
    cfg = TrainConfig(model="cgan", lr_g=3e-4, dropout=0.35, max_images=256, batch_size=64, epochs=7,
                      device="cpu", ema_decay=0.999, latent_dim=64).to_dict()
    at.session_state["train_prefill"] = cfg
    run_page(at)
    assert at.session_state["_values"] == cfg and "train_prefill" not in at.session_state
    assert at.session_state["train_mode"] == "New run"
    run_page(at)  # stays filled on later reruns, and edits still work
    assert at.session_state["_values"] == cfg
    at.number_input(key="cfg_max_images").set_value(512)
    run_page(at)
    assert at.session_state["_values"]["max_images"] == 512

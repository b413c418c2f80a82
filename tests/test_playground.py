"""The 2-D playground: mode counter, toy samplers, training, snapshot, gradients, runner, page."""
from __future__ import annotations

import gc
import json
import math
import time

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganlib.engine.update_rules.gan import GANUpdate  # noqa: E402
from ganlib.explore.playground import (  # noqa: E402
    LIVE_FIELDS,
    TOYS,
    Playground,
    PlaygroundConfig,
    PlaygroundRunner,
    modes_covered,
    near_data_share,
)
from ganlib.store.config import ConfigError  # noqa: E402
from tests.helpers import page as page_at  # noqa: E402

RING = TOYS.get("ring").centres


def wait_until(pred, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def mean_dist_to_modes(points: np.ndarray, centres: np.ndarray) -> float:
    return float(np.linalg.norm(points[:, None] - centres[None], axis=-1).min(1).mean())


# ---- the mode counter ----------------------------------------------------------------------
def test_points_on_all_eight_centres_cover_eight_modes():
    pts = np.repeat(RING, 10, axis=0) + 0.01
    cov = modes_covered(pts, RING, radius=0.3, min_count=5)
    assert cov.covered == 8 and cov.n_modes == 8
    assert cov.high_quality == 1.0 and list(cov.counts) == [10] * 8


def test_points_on_three_centres_cover_three():
    pts = np.concatenate([np.repeat(RING[[0, 3, 5]], 40, axis=0), np.zeros((30, 2))])  # plus 30 in the hole
    cov = modes_covered(pts, RING, radius=0.3, min_count=0.05)  # a share: 5 % of 150 -> 8 points
    assert cov.covered == 3 and cov.threshold == 8
    assert cov.high_quality == pytest.approx(120 / 150)
    assert [i for i, c in enumerate(cov.counts) if c] == [0, 3, 5]


def test_far_away_points_cover_nothing_and_min_count_applies():
    assert modes_covered(np.full((100, 2), 10.0), RING, 0.3, 1).covered == 0
    assert modes_covered(np.full((100, 2), 10.0), RING, 0.3, 1).high_quality == 0.0
    assert modes_covered(RING, RING, 0.3, min_count=2).covered == 0  # one point per mode is not enough
    assert modes_covered(RING, RING, 0.3, min_count=1).covered == 8
    assert modes_covered(np.zeros((0, 2)), RING, 0.3).covered == 0
    with pytest.raises(ValueError):
        modes_covered(RING, RING, 0.3, min_count=0)


def test_near_data_share():
    ref = np.stack([np.linspace(-1, 1, 50), np.zeros(50)], 1)
    pts = np.array([[0.0, 0.05], [0.5, -0.1], [0.0, 1.0], [3.0, 0.0]])
    assert near_data_share(pts, ref, 0.2) == pytest.approx(0.5)


# ---- samplers ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ring", "grid", "moons", "spiral"])
def test_samplers_shapes_and_extent(name):
    toy = TOYS.get(name)
    x = toy.sample(1000, torch.Generator().manual_seed(0))
    assert x.shape == (1000, 2) and x.dtype == torch.float32 and torch.isfinite(x).all()
    lo, hi = toy.extent
    assert (x > lo).all() and (x < hi).all()
    assert torch.equal(x, toy.sample(1000, torch.Generator().manual_seed(0)))  # its own generator only
    if toy.centres is not None:  # every point is near some mode and every mode gets points
        cov = modes_covered(x.numpy(), toy.centres, toy.radius + toy.std, min_count=5)
        assert cov.covered == len(toy.centres) and cov.high_quality > 0.99


def test_ring_radius_and_modes():
    toy = TOYS.get("ring")
    assert toy.centres.shape == (8, 2) and np.allclose(np.linalg.norm(toy.centres, axis=1), 2.0)
    x = toy.sample(4000, torch.Generator().manual_seed(1)).numpy()
    assert np.linalg.norm(x, axis=1).mean() == pytest.approx(2.0, abs=0.02)
    assert TOYS.get("grid").centres.shape == (25, 2)


def test_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="distribution"):
        PlaygroundConfig(distribution="torus")
    with pytest.raises(ConfigError, match="loss"):
        PlaygroundConfig(loss="nope")
    with pytest.raises(ConfigError, match="lr_g"):
        PlaygroundConfig(lr_g=0)
    with pytest.raises(ConfigError, match="n_critic"):
        PlaygroundConfig(n_critic=0)


# ---- training ------------------------------------------------------------------------------
def test_training_on_the_ring_moves_generated_points_to_the_modes():
    """Early GAN training wobbles, so compare the mean over steps 150-300 with the start."""
    pg = Playground(PlaygroundConfig(distribution="ring", seed=0))
    before = mean_dist_to_modes(pg.snapshot()["fake"], RING)
    t0 = time.monotonic()
    pg.step(150)
    later = []
    for _ in range(4):
        later.append(mean_dist_to_modes(pg.snapshot()["fake"], RING))
        pg.step(50)
    elapsed = time.monotonic() - t0
    assert np.mean(later) < 0.8 * before, (before, later)
    assert elapsed < 20, f"350 steps took {elapsed:.1f}s"
    t = pg.snapshot()["trace"]
    assert t["step"][0] == 0 and t["step"][-1] == 350 and pg.steps == 350
    assert np.isfinite(t["d_loss"][1:]).all() and np.isfinite(t["g_loss"][1:]).all()
    assert np.all(t["modes"] >= 0) and np.all(t["modes"] <= 8)


@pytest.mark.parametrize("kw", [dict(loss="wgan", n_critic=2), dict(loss="wgan_gp", n_critic=2),
                                dict(loss="hinge", r1_gamma=1.0, instance_noise=0.1),
                                dict(loss="lsgan", gradient_penalty=True, distribution="moons", noise_dim=8)])
def test_every_stabiliser_trains(kw):
    pg = Playground(PlaygroundConfig(**kw))
    pg.step(10)
    snap = pg.snapshot()
    assert snap["step"] == 10 and not snap["diverged"]
    assert np.isfinite(snap["trace"]["d_loss"][1:]).all()
    if PlaygroundConfig(**kw).loss == "wgan":  # clipped after every D update
        assert max(p.abs().max().item() for p in pg.D.parameters()) <= 0.1 + 1e-7


@pytest.mark.parametrize("kw", [dict(loss="wgan_gp", instance_noise=0.05),  # GP points, instance noise
                                dict(loss="wgan", n_critic=3),  # fresh fakes for G's step, clipping
                                dict(loss="hinge", r1_gamma=1.0, gradient_penalty=True, noise_dim=8)])
def test_same_seed_same_run_and_global_rng_untouched(kw):
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    a = Playground(PlaygroundConfig(seed=3, **kw))
    a.step(5)
    a.snapshot()
    a.configure(a.cfg.replace(gradient_penalty=not a.cfg.gradient_penalty))
    a.step(2)
    assert torch.equal(torch.get_rng_state(), state)  # a training job in the same process is not shifted
    assert torch.get_num_threads() == threads
    b = Playground(PlaygroundConfig(seed=3, **kw))
    b.step(5)
    b.configure(b.cfg.replace(gradient_penalty=not b.cfg.gradient_penalty))
    b.step(2)
    assert np.array_equal(a.snapshot()["fake"], b.snapshot()["fake"])
    assert not np.array_equal(a.snapshot()["fake"], Playground(PlaygroundConfig(seed=4, **kw)).snapshot()["fake"])


def test_the_playground_trains_with_the_engines_update_rule():
    pg = Playground(PlaygroundConfig(n_critic=3, loss="wgan_gp"))
    assert isinstance(pg.rule, GANUpdate) and pg.rule.G is pg.G and pg.rule.D is pg.D
    assert pg.rule.gen is pg.gen  # the playground's own noise, never the global RNG
    pg.step(4)
    assert (pg.rule.d_steps, pg.rule.g_steps) == (3, 1)  # the last step: n_critic D updates, one G update
    assert pg.rule.opt_d.state[pg.D.net[0].weight]["step"] == 12  # 4 steps of 3 D updates
    assert pg.rule.opt_g.state[pg.G.net[0].weight]["step"] == 4


def test_nan_losses_stop_the_playground_after_recording_the_step():
    pg = Playground()
    pg.step(2)
    means = pg.rule.epoch_means
    pg.rule.epoch_means = lambda: {**means(), "d_loss": math.nan}
    assert pg.step(10) == 3 and pg.diverged and pg.snapshot()["diverged"]
    assert pg.trace["step"][-1] == 3 and math.isnan(pg.trace["d_loss"][-1])
    assert pg.step(5) == 3  # stays stopped until a reset
    pg.reset()
    assert not pg.diverged and pg.step(1) == 1


def test_live_fields_are_marked_on_the_config():
    assert set(LIVE_FIELDS) == {"lr_g", "lr_d", "beta1", "beta2", "n_critic", "gradient_penalty", "gp_weight",
                                "r1_gamma", "clip_value", "instance_noise", "batch_size"}
    cfg = PlaygroundConfig()
    assert not cfg.rebuilds(cfg.replace(batch_size=64, lr_d=1e-2))
    assert cfg.rebuilds(cfg.replace(hidden=32)) and cfg.rebuilds(cfg.replace(seed=1))
    assert cfg.latent_dim == cfg.noise_dim and "latent_dim" not in cfg.to_dict()


def test_configure_applies_live_settings_and_rebuilds_for_others():
    pg = Playground()
    pg.step(3)
    assert pg.configure(pg.cfg.replace(lr_g=5e-3, n_critic=2, r1_gamma=0.1)) is False
    assert pg.steps == 3 and pg.rule.opt_g.param_groups[0]["lr"] == 5e-3
    assert pg.rule.cfg.n_critic == 2 and pg.rule.cfg.r1_gamma == 0.1 and not pg.rule.use_gp
    assert pg.configure(pg.cfg.replace(gradient_penalty=True)) is False and pg.rule.use_gp  # live, too
    assert pg.configure(pg.cfg.replace(distribution="grid")) is True
    assert pg.steps == 0 and pg.snapshot()["n_modes"] == 25


# ---- snapshot and gradients ----------------------------------------------------------------
def test_snapshot_arrays_have_the_right_shapes():
    pg = Playground()
    pg.step(12)
    s = pg.snapshot()
    n, g, a = Playground.N_SHOW, Playground.GRID, Playground.N_ARROWS
    assert s["real"].shape == (n, 2) and s["fake"].shape == (n, 2)
    assert s["grid_x"].shape == (g,) and s["grid_y"].shape == (g,) and s["d_grid"].shape == (g, g)
    assert s["arrow_from"].shape == (a, 2) and s["arrows"].shape == (a, 2)
    assert s["d_is_prob"] and 0 <= s["d_grid"].min() and s["d_grid"].max() <= 1
    assert s["centres"].shape == (8, 2) and s["mode_covered"].shape == (8,) and s["n_modes"] == 8
    lengths = {len(v) for v in s["trace"].values()}
    assert lengths == {len(s["trace"]["step"])} and s["trace"]["step"][-1] == 10  # a row every 5 steps
    # d_grid[i, j] is D at (grid_x[j], grid_y[i])
    i, j = 7, 31
    x = torch.tensor([[s["grid_x"][j], s["grid_y"][i]]], dtype=torch.float32)
    assert torch.sigmoid(pg.D(x)).item() == pytest.approx(float(s["d_grid"][i, j]), abs=1e-5)
    s["real"][:] = 0  # copies: the playground is untouched
    assert not np.all(pg.snapshot()["real"] == 0)


def test_wasserstein_heatmap_is_the_raw_score_and_moons_have_no_modes():
    pg = Playground(PlaygroundConfig(loss="wgan_gp", distribution="moons"))
    s = pg.snapshot()
    assert not s["d_is_prob"] and s["modes"] is None and s["centres"] is None
    assert np.isnan(s["trace"]["modes"]).all() and 0 <= s["quality"] <= 1


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan_gp", "lsgan"])
def test_arrows_are_minus_the_gradient_of_g_loss(loss):
    pg = Playground(PlaygroundConfig(loss=loss, seed=1))
    pg.step(30)
    s = pg.snapshot()
    pts, arrows = s["arrow_from"].astype(np.float64), s["arrows"]
    i = int(np.linalg.norm(arrows, axis=1).argmax())
    h = 1e-3
    numeric = np.zeros(2)
    for k in range(2):
        up, down = pts.copy(), pts.copy()
        up[i, k] += h
        down[i, k] -= h
        numeric[k] = (pg.g_loss_at(up) - pg.g_loss_at(down)) / (2 * h)
    assert np.allclose(arrows[i], -numeric, rtol=0.05, atol=2e-5), (arrows[i], -numeric)
    moved = pts.copy()  # a small move along the arrow lowers G's loss
    moved[i] += 0.01 * arrows[i] / np.linalg.norm(arrows[i])
    assert pg.g_loss_at(moved) < pg.g_loss_at(pts)


# ---- the runner ----------------------------------------------------------------------------
def test_runner_play_pause_step_reset():
    r = PlaygroundRunner(speed=5, tick_s=0.01)
    try:
        r.play()
        assert r.playing
        assert wait_until(lambda: r.playground.steps >= 20), r.snapshot()["error"]
        r.pause()
        time.sleep(0.2)  # the current tick ends
        n = r.playground.steps
        time.sleep(0.2)
        assert r.playground.steps == n and not r.playing
        assert r.step() == n + 5 and r.step(2) == n + 7  # a tick (speed steps), or n
        r.speed = 0
        assert r.speed == 1
        r.play()
        thread = r.thread
        r.reset()
        assert not thread.is_alive() and r.thread is None
        s = r.snapshot()
        assert s["step"] == 0 and not s["playing"] and s["error"] is None
    finally:
        r.close()


def test_runner_pauses_when_unwatched_and_stops_when_dropped():
    r = PlaygroundRunner(speed=2, tick_s=0.01, idle_pause_s=0.3)
    r.play()
    assert wait_until(lambda: not r.playing, timeout=10)  # noqa: F821 - nobody polled snapshot(); r is deleted below
    r.play()
    thread = r.thread
    assert thread.is_alive()
    del r
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()  # the session's runner was collected: its thread ended


def test_runner_configure_resets_only_for_structural_changes():
    r = PlaygroundRunner()
    try:
        r.step(3)
        assert r.configure(r.cfg.replace(instance_noise=0.2)) is False and r.playground.steps == 3
        r.play()
        assert r.configure(r.cfg.replace(loss="hinge")) is True
        assert r.playground.steps == 0 and not r.playing and r.cfg.loss == "hinge"
    finally:
        r.close()




def test_live_chart_component_files_and_arrow_segments():
    from ganlib.ui import playground_view as view

    root = view._component_dir()
    html = (root / "index.html").read_text()
    assert '<script src="plotly.min.js">' in html and "Plotly.react" in html
    assert (root / "plotly.min.js").stat().st_size > 1_000_000  # plotly.py's own copy: nothing is fetched
    xs, ys, sizes, top = view.arrow_segments(np.zeros((2, 2)), np.array([[3.0, 4.0], [0.0, 0.0]]), max_len=1.0)
    assert top == 5.0 and xs[:3] == [0.0, pytest.approx(0.6), None] and ys[1] == pytest.approx(0.8)
    assert sizes == [0, 9, 0, 0, 0, 0]  # no arrow head on a zero arrow


# ---- the page ------------------------------------------------------------------------------
def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def figures(at: AppTest) -> list[dict]:
    """The Plotly figures the page drew through its live chart component, as dicts."""
    out = []
    for el in at.get("component_instance"):
        assert el.proto.component_name.endswith("live_plotly")
        out.append(json.loads(json.loads(el.proto.json_args)["spec"]))
    return out


@pytest.fixture
def page():
    at = page_at("app_pages/playground.py")
    yield at
    runner = at.session_state["_pg_runner"] if "_pg_runner" in at.session_state else None
    if runner is not None:
        runner.close()


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_loads_with_figure_and_step_advances(page):
    at = run(page)
    assert at.title[0].value == "Playground"
    field, losses, coverage = figures(at)  # the plane, the losses, the coverage
    names = [t.get("name") for t in field["data"]]
    assert names == ["D", "real data", "generated G(z)", "G's gradient (−∂L_G/∂x)"]
    assert field["data"][0]["type"] == "heatmap" and len(field["layout"]["shapes"]) == 8  # the modes
    assert field["layout"]["title"]["text"] == "step 0"
    assert [t["name"] for t in losses["data"]] == ["D loss", "G loss"]
    assert coverage["data"][0]["name"] == "modes covered"
    assert metric(at, "Step") == "0" and metric(at, "Modes covered").endswith("/ 8")
    at.slider(key="pg_speed").set_value(7)
    run(at)
    at.button(key="pg_step").click()
    run(at)
    assert metric(at, "Step") == "7"
    at.button(key="pg_step").click()
    run(at)
    assert metric(at, "Step") == "14" and figures(at)[0]["layout"]["title"]["text"] == "step 14"
    at.toggle(key="pg_show_heat").set_value(False)
    at.toggle(key="pg_show_arrows").set_value(False)
    run(at)
    assert [t.get("name") for t in figures(at)[0]["data"]] == ["real data", "generated G(z)"]
    assert "What am I looking at?" in [s.value for s in at.subheader]


def test_page_play_pause_and_restart_on_new_data(page):
    at = run(page)
    at.button(key="pg_play").click()
    run(at)
    assert at.button(key="pg_play").disabled and not at.button(key="pg_pause").disabled
    runner = at.session_state["_pg_runner"]
    assert wait_until(lambda: runner.playground.steps >= 10)
    at.button(key="pg_pause").click()
    run(at)
    assert not runner.playing and not at.button(key="pg_play").disabled
    assert int(metric(at, "Step").replace(",", "")) >= 10
    at.selectbox(key="pg_loss").set_value("wgan_gp")  # n_critic follows the loss; live view keeps going
    run(at)
    assert at.slider(key="pg_n_critic").value == 5 and runner.cfg.loss == "wgan_gp"
    assert metric(at, "Step") == "0"  # a new loss starts over
    at.select_slider(key="pg_lr_g").set_value(5e-3)  # a live setting: no restart
    at.button(key="pg_step").click()
    run(at)
    assert runner.cfg.lr_g == 5e-3 and metric(at, "Step") == "10"
    at.selectbox(key="pg_distribution").set_value("spiral")
    run(at)
    assert "Modes covered" not in [m.label for m in at.metric] and metric(at, "Step") == "0"

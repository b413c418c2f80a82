"""StyleGAN (issue 13): shapes at every stage and during a fade, AdaIN against seed 003's
formula, the growing schedule, style mixing swaps exactly the chosen layers, noise changes only
the output under a fixed w, an exact CPU resume mid-stage, and the config fields' visibility."""
import math

import pytest
import torch

from ganlib.engine.callbacks import Callbacks
from ganlib.engine.forks import fork
from ganlib.engine.training import train
from ganlib.explore import style as sx
from ganlib.models import build_models
from ganlib.models.handle import GeneratorHandle
from ganlib.models.stylegan import StyleLayer, adain, growth_at, stage_sizes
from ganlib.store.config import ConfigError, TrainConfig, relevant_fields

STYLE_FIELDS = {"mapping_layers", "adain", "noise_inputs", "style_mixing", "progressive", "grow_until", "r1_every"}
LOSS_COLS = ("d_loss", "g_loss", "d_real", "d_fake", "stage", "alpha")


def _models(size=28, channels=1, **kw):
    cfg = TrainConfig(model="stylegan", image_size=size, channels=channels, latent_dim=16, **kw)
    return build_models(cfg)


def _handle(**kw) -> GeneratorHandle:
    G, _ = _models(**kw)
    torch.manual_seed(1)
    for layer in G.layers:  # an untrained G scales its noise by 0: give it some
        layer.noise_strength.data.uniform_(0.5, 1.0)
    return GeneratorHandle(G.eval(), 16)


@pytest.mark.parametrize("size, channels, sizes", [(28, 1, [7, 14, 28]), (32, 3, [4, 8, 16, 32]),
                                                   (64, 1, [4, 8, 16, 32, 64])])
def test_shapes_at_every_stage_and_during_a_fade(size, channels, sizes):
    assert stage_sizes(size) == sizes
    G, D = _models(size, channels, minibatch_std=True)
    z = torch.randn(3, 16)
    for stage in range(len(sizes)):
        for alpha in (0.3, 1.0):
            G.set_growth(stage, alpha)
            D.set_growth(stage, alpha)
            x = G(z)
            assert x.shape == (3, channels, size, size) and x.abs().max() <= 1
            assert D(x).shape == (3,)
            # below the full size, G's image is its stage's size upsampled: blocks of equal pixels
            f = size // sizes[stage]
            if f > 1:
                small = x[:, :, ::f, ::f]
                assert torch.equal(torch.nn.functional.interpolate(small, scale_factor=f), x)


def test_adain_is_seed_003s_formula_on_a_known_tensor():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 8.0]]]])  # (1, 2, 2, 2)
    ys, yb = torch.tensor([[2.0, 0.5]]), torch.tensor([[1.0, -1.0]])
    # channel 0: mu 2.5, sigma sqrt(1.25); channel 1: mu 2, sigma sqrt(12)
    want0 = 2.0 * (torch.tensor([[1.0, 2.0], [3.0, 4.0]]) - 2.5) / math.sqrt(1.25 + 1e-5) + 1.0
    want1 = 0.5 * (torch.tensor([[0.0, 0.0], [0.0, 8.0]]) - 2.0) / math.sqrt(12.0 + 1e-5) - 1.0
    out = adain(x, ys, yb)
    assert torch.allclose(out[0, 0], want0, atol=1e-6) and torch.allclose(out[0, 1], want1, atol=1e-6)
    # the layer's fused kernel is the same formula, with the scale and bias from w
    layer = StyleLayer(2, 2, 4, up=False, conv=False, use_noise=False, use_adain=True)
    w = torch.randn(1, 4)
    s, b = layer.style(w).chunk(2, dim=1)
    assert torch.allclose(layer(x, w, torch.zeros(1, 1, 2, 2)), adain(torch.nn.functional.leaky_relu(x, 0.2), s, b),
                          atol=1e-5)


def test_growing_schedule_is_a_pure_function_of_progress():
    assert growth_at(0.0, 3, True, 0.6) == (0, 1.0)
    assert growth_at(0.25, 3, True, 0.6) == (1, pytest.approx(0.5))  # a quarter into stage 1's fade
    assert growth_at(0.35, 3, True, 0.6) == (1, 1.0)  # the second half of a stage trains at alpha 1
    assert growth_at(0.6, 3, True, 0.6) == (2, 1.0) and growth_at(0.99, 3, True, 0.6) == (2, 1.0)
    assert growth_at(0.0, 3, False, 0.6) == (2, 1.0)  # growing off: the full size from the start


def test_style_mixing_swaps_exactly_the_chosen_layers():
    h = _handle()
    G = h.G
    assert sorted(sum((sx.crossover_layers(G, c) for c in sx.CROSSOVERS), [])) == list(range(G.num_ws))
    a, b = sx.broadcast(torch.randn(2, 16), G.num_ws), sx.broadcast(torch.randn(2, 16), G.num_ws)
    for crossover in sx.CROSSOVERS:
        layers = sx.crossover_layers(G, crossover)
        mixed = sx.mix_ws(a, b, layers)
        for i in range(G.num_ws):
            assert torch.equal(mixed[:, i], (b if i in layers else a)[:, i])
    # the grid's cell (r, c) is row r's styles with column c's at the crossover layers
    images, ncol = sx.style_mix_grid(h, [1, 2], [3, 4, 5], "middle")
    assert ncol == 4 and images.shape[0] == 3 * 4
    ws = sx.mix_ws(sx.broadcast(sx.seeds_w(h, [2]), G.num_ws), sx.broadcast(sx.seeds_w(h, [4]), G.num_ws),
                   sx.crossover_layers(G, "middle"))
    cell = sx.synthesize(h, ws, sx.fixed_noise(h, 1))
    assert torch.allclose(images[2 * 4 + 2], cell[0], atol=1e-5)


def test_training_mixing_takes_the_second_w_from_a_crossover_on():
    G, _ = _models()
    G.mixing_prob = 1.0
    w1, w2 = torch.zeros(64, 16), torch.ones(64, 16)
    ws = G.mix(sx.broadcast(w1, G.num_ws), w2)
    second = ws[:, :, 0] == 1  # (n, layers): True where the layer takes w2
    assert not second[:, 0].any() and second[:, -1].all()  # the crossover lies in [1, L)
    assert (second.int().diff(dim=1) >= 0).all()  # once w2, always w2
    G.mixing_prob = 0.0
    assert torch.equal(G.mix(sx.broadcast(w1, G.num_ws), w2), sx.broadcast(w1, G.num_ws))


def test_noise_resampling_changes_only_the_output_under_a_fixed_w():
    h = _handle()
    same, std0 = sx.resample_noise(h, seed=3, layers=[], n=4)
    assert all(torch.equal(same[0], s) for s in same) and float(std0.max()) == 0
    fine, std = sx.resample_noise(h, seed=3, layers=[4, 5], n=4)
    assert float(std.max()) > 0 and not torch.equal(fine[0], fine[1])
    w = sx.seeds_w(h, [3])  # what both calls fed every sample: one w, unchanged by the noise
    assert torch.equal(w, sx.seeds_w(h, [3]))
    coarse, std_c = sx.resample_noise(h, seed=3, layers=[0], n=4)
    assert not torch.equal(coarse[0], coarse[1])
    with pytest.raises(ValueError, match="layer 99"):
        sx.resample_noise(h, seed=3, layers=[99])


def test_eval_noise_is_repeatable_and_leaves_the_global_rng_alone():
    h = _handle()
    z = torch.randn(4, 16)
    before = torch.random.get_rng_state()
    a, b = h.G(z), h.G(z)
    assert torch.equal(a, b) and torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(h.G(z, psi=0.0)[0], h.G(z, psi=0.0)[0])  # psi 0: every w is the mean


def test_truncation_in_w_pulls_towards_the_mean_w():
    h = _handle()
    G = h.G
    G.w_avg.copy_(torch.randn(16))
    w = torch.randn(3, 16)
    assert torch.allclose(G.truncate(w, 0.0), G.w_avg.expand(3, -1))
    assert torch.allclose(G.truncate(w, 0.5), G.w_avg + 0.5 * (w - G.w_avg))


def test_path_length_is_finite_in_both_spaces():
    h = _handle()
    out = {s: sx.path_length(h, s, n=20) for s in sx.SPACES}
    assert all(math.isfinite(r["ppl"]) and r["ppl"] > 0 and r["eps"] == 1e-4 for r in out.values())
    with pytest.raises(ValueError, match="space"):
        sx.path_length(h, "x")


def _tiny(**kw):
    base = dict(model="stylegan", max_images=64, batch_size=16, epochs=4, device="cpu", checkpoint_every=10,
                latent_dim=16, mapping_layers=2, loss="hinge", r1_gamma=1.0, r1_every=2, ema_decay=0.9,
                minibatch_std=True, grow_until=0.9, eval_every=0)
    return TrainConfig(**{**base, **kw})


def test_exact_cpu_resume_mid_stage(tmp_path):
    full = train(_tiny(), runs_dir=tmp_path / "a")
    assert full.state == "completed", full.error
    # 4 steps an epoch, 16 in all; growing over the first 90 %: epoch 2 ends inside stage 1
    assert [r["stage"] for r in full.rows] == [0.0, 1.0, 2.0, 2.0]
    steps = {"n": 0}

    def stop_in_epoch_three():
        steps["n"] += 1
        return steps["n"] > 4 * 2 + 1

    stopped = train(_tiny(), runs_dir=tmp_path / "b", callbacks=Callbacks(should_stop=stop_in_epoch_three))
    assert stopped.state == "stopped" and stopped.epoch == 2
    rest = train(_tiny(), resume=stopped.run.path)
    assert [[r[k] for k in LOSS_COLS] for r in rest.rows] == [[r[k] for k in LOSS_COLS] for r in full.rows]


def test_fork_changes_the_mixing_and_growing_and_refuses_the_mapping_depth(tmp_path):
    parent = train(_tiny(epochs=2, checkpoint_every=1), runs_dir=tmp_path)
    child = fork(parent.run, {"style_mixing": 0.0, "progressive": False, "epochs": 3}, runs_dir=tmp_path)
    res = train(child.config(), resume=child.path)
    assert res.state == "completed" and res.rows[-1]["stage"] == 2.0  # growing off: the full size
    with pytest.raises(ConfigError, match="mapping_layers"):
        fork(parent.run, {"mapping_layers": 3}, runs_dir=tmp_path)


def test_every_part_switched_off_still_trains(tmp_path):
    cfg = _tiny(epochs=1, mapping_layers=0, adain=False, noise_inputs=False, style_mixing=0.0, progressive=False,
                r1_gamma=0.0, ema_decay=0.0, minibatch_std=False)
    res = train(cfg, runs_dir=tmp_path)
    assert res.state == "completed", res.error
    assert res.rows[-1]["stage"] == 2.0 and all(math.isfinite(v) for v in res.rows[-1].values())


def test_style_fields_show_only_for_stylegan_and_bad_values_name_the_field():
    assert STYLE_FIELDS <= relevant_fields({"model": "stylegan", "loss": "hinge"})
    assert not STYLE_FIELDS & relevant_fields({"model": "cdcgan_compact", "loss": "hinge"})
    with pytest.raises(ConfigError, match="patch_gan"):
        TrainConfig(model="stylegan", patch_gan=True)
    with pytest.raises(ConfigError, match="style_mixing"):
        TrainConfig(model="stylegan", style_mixing=1.5)


def test_explorer_refuses_a_run_that_is_not_stylegan(tmp_path):
    res = train(TrainConfig(max_images=128, batch_size=64, epochs=1, device="cpu", eval_every=0), runs_dir=tmp_path)
    with pytest.raises(ValueError, match="needs a stylegan run"):
        sx.style_handle(res.run)


def test_charts_mark_each_growing_stage():
    import plotly.graph_objects as go

    from ganlib.ui.chart_lineage import Lineage, annotate, stage_marks

    rows = [{"epoch": e, "stage": s, "alpha": a} for e, s, a in
            [(1, 0.0, 1.0), (2, 0.0, 1.0), (3, 1.0, 0.4), (4, 1.0, 1.0), (5, 2.0, 0.8)]]
    marks = stage_marks(rows, 28)
    assert [m[0] for m in marks] == [2.5, 4.5]
    assert marks[0][1].startswith("grows to 14×14 (α 0.40") and marks[1][1].startswith("grows to 28×28")
    fig = annotate(go.Figure(), Lineage(stages=marks), {})
    assert [s.x0 for s in fig.layout.shapes] == [2.5, 4.5]

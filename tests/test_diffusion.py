"""The diffusion family (flow matching): the Euler sampler against hand-worked cases, training
through the engine, exact resume, forks, live edits of the sampler, deterministic sampling from
a fixed noise, the explorers and the CLI on a diffusion run, and its place in the verdict."""
import math

import pytest
import torch

from ganlib.cli import main as cli_main
from ganlib.core.errors import ConfigError
from ganlib.engine.forks import fork
from ganlib.engine.training import Callbacks, train
from ganlib.explore.human_eval import make_batch
from ganlib.explore.latent.interpolation import class_morph, render_corner_grid
from ganlib.explore.sampling import generate, get_generator, latent_walk, with_sampler
from ganlib.metrics.health import verdict
from ganlib.models import MODELS, build_models, latent_size
from ganlib.models.diffusion import FlowMatching, euler_sample, evaluations_per_image
from ganlib.store.checkpoints import load_checkpoint, load_handle
from ganlib.store.config import TrainConfig, relevant_fields
from ganlib.store.presets import apply_preset
from ganlib.store.run_folder import Run


def tiny(**kw) -> TrainConfig:
    base = dict(model="diffusion", variant="tiny", max_images=48, batch_size=16, epochs=2, device="cpu",
                eval_every=0, sample_steps=2, guidance=1.0, ema_decay=0.5, lr_g=1e-3, checkpoint_every=1)
    return TrainConfig(**{**base, **kw})


# ---- the sampler, by hand ----------------------------------------------------------------
def test_euler_on_the_straight_line_field_lands_on_its_target():
    """The rectified-flow field of a single image x1, v(x, t) = (x1 - x) / (1 - t), moves every
    noise along the straight line to x1 at constant speed: Euler is exact at any step count."""
    x1 = torch.tensor([[3.0, -2.0, 0.5]])
    x0 = torch.tensor([[-1.0, 4.0, 0.0]])
    for steps in (1, 2, 7):
        out = euler_sample(lambda x, t: (x1 - x) / (1 - t[:, None]), x0, steps)
        assert torch.allclose(out, x1, atol=1e-6)


def test_euler_on_a_linear_field_is_the_compound_interest_formula():
    """dx/dt = a x from x0: the exact end is x0 e^a; n Euler steps give x0 (1 + a/n)^n."""
    a, x0 = 0.7, torch.tensor([[2.0, -1.0]])
    for n in (1, 4, 50):
        out = euler_sample(lambda x, t: a * x, x0, n)
        assert torch.allclose(out, x0 * (1 + a / n) ** n, rtol=1e-6)
    assert torch.allclose(euler_sample(lambda x, t: a * x, x0, 2000), x0 * math.exp(a), rtol=1e-3)


def test_euler_passes_the_time_of_each_step():
    seen = []
    euler_sample(lambda x, t: seen.append(t[0].item()) or torch.zeros_like(x), torch.zeros(2, 1), 4)
    assert seen == [0.0, 0.25, 0.5, 0.75]
    with pytest.raises(ValueError):
        euler_sample(lambda x, t: x, torch.zeros(1, 1), 0)


def test_network_evaluations_per_image():
    assert evaluations_per_image(20, 1.0) == 20 and evaluations_per_image(20, 0.0) == 20
    assert evaluations_per_image(20, 2.0) == 40


def test_guidance_is_the_extrapolation_of_the_two_velocities():
    """With w, the sampler's velocity is v_u + w (v_c - v_u): one Euler step from z shows it."""
    torch.manual_seed(0)
    G = FlowMatching((1, 8, 8), 10, 8, 2, sample_steps=1, guidance=1.0).eval()
    torch.nn.init.normal_(G.net.out[-1].weight, 0, 0.1)  # the output layer starts at zero
    z, y = torch.randn(3, 64) * 0.1, torch.tensor([1, 2, 3])
    t0 = torch.zeros(3)
    with torch.no_grad():
        v_c = G.velocity(z.view(3, 1, 8, 8), t0, y)
        v_u = G.velocity(z.view(3, 1, 8, 8), t0, None)
        for w in (0.0, 1.0, 2.5):
            want = (z.view(3, 1, 8, 8) + v_u + w * (v_c - v_u)).clamp(-1, 1)
            assert torch.allclose(G(z, y, guidance=w), want, atol=1e-5)


# ---- training through the engine ------------------------------------------------------------
def test_tiny_diffusion_trains_checkpoints_and_samples_deterministically(tmp_path):
    res = train(tiny(guidance=2.0), runs_dir=tmp_path)
    assert res.state == "completed", res.error
    assert all(math.isfinite(r["fm_loss"]) and math.isfinite(r["grad_norm_g"]) for r in res.rows)
    assert res.run.samples()  # the per-epoch grids
    ck = load_checkpoint(res.run.checkpoint_path(2))
    assert ck["D"] is None and ck["G_ema"] is not None
    h = load_handle(res.run.checkpoint_path(2))
    assert (h.kind, h.latent_dim, h.conditional) == ("diffusion", 784, True)
    a, b = h.sample(6, seed=3, labels=[0, 1, 2, 3, 4, 5]), h.sample(6, seed=3, labels=[0, 1, 2, 3, 4, 5])
    assert torch.equal(a, b) and a.shape == (6, 1, 28, 28) and a.abs().max() <= 1
    assert not torch.equal(a, h.sample(6, seed=4, labels=[0, 1, 2, 3, 4, 5]))
    assert not torch.equal(a, h.with_sampling(steps=5).sample(6, seed=3, labels=[0, 1, 2, 3, 4, 5]))


def test_resume_equals_the_uninterrupted_run(tmp_path):
    full = train(tiny(guidance=2.0), runs_dir=tmp_path / "a")
    half = train(tiny(epochs=1, guidance=2.0), runs_dir=tmp_path / "b")
    rest = train(tiny(guidance=2.0), resume=half.run.path)
    assert rest.state == "completed", rest.error
    assert [r["fm_loss"] for r in full.rows] == [r["fm_loss"] for r in rest.rows]
    a, b = (load_checkpoint(r.run.checkpoint_path(2)) for r in (full, rest))
    assert all(torch.equal(a["G_ema"][k], b["G_ema"][k]) for k in a["G_ema"])


def test_fork_changes_the_sampler_and_the_label_dropout_and_trains_on(tmp_path):
    parent = train(tiny(), runs_dir=tmp_path)
    child = fork(parent.run, {"sample_steps": 3, "guidance": 1.5, "label_dropout": 0.2, "epochs": 3})
    res = train(child.config(), resume=child.path)
    assert res.state == "completed", res.error
    assert [r["fm_loss"] for r in res.rows[:2]] == [r["fm_loss"] for r in parent.rows]
    assert load_handle(res.run.checkpoint_path(3)).G.sample_steps == 3
    with pytest.raises(ConfigError) as e:
        fork(parent.run, {"variant": "small"})
    assert e.value.field == "variant"


def test_live_edit_of_the_sampler_reaches_the_next_grid(tmp_path):
    calls = {"n": 0}

    def pending():
        calls["n"] += 1
        return {"sample_steps": 5, "guidance": 0.0} if calls["n"] == 2 else {}

    seen = []
    res = train(tiny(epochs=2), runs_dir=tmp_path,
                callbacks=Callbacks(pending_edits=pending, on_epoch=lambda row: seen.append(row["epoch"])))
    assert res.state == "completed" and seen == [1, 2]
    assert res.run.edits()[0]["changes"] == {"sample_steps": [2, 5], "guidance": [1.0, 0.0]}
    assert load_handle(res.run.checkpoint_path(2)).G.sample_steps == 5


def test_the_evaluation_pipeline_runs_on_the_sampler(tmp_path):
    res = train(tiny(epochs=1, eval_every=1, eval_samples=100), runs_dir=tmp_path)
    assert res.state == "completed", res.error
    row = res.rows[-1]
    assert row["eval_n"] == 48 and math.isfinite(row["fid"]) and row["extractor"] == "digits"


# ---- config ------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, field", [
    ({"guidance": 2.0, "label_dropout": 0.0}, "guidance"),
    ({"n_critic": 5}, "n_critic"),
    ({"spectral_norm": True}, "spectral_norm"),
    ({"image_size": 30}, "image_size"),
    ({"sample_steps": 0}, "sample_steps"),
])
def test_refused_diffusion_configs(changes, field):
    with pytest.raises(ConfigError) as e:
        TrainConfig(model="diffusion", **changes)
    assert e.value.field == field


def test_the_form_shows_the_sampler_for_diffusion_only():
    shown = relevant_fields(TrainConfig(model="diffusion").to_dict())
    assert {"sample_steps", "guidance", "label_dropout", "ema_decay", "lr_g"} <= shown
    assert not shown & {"latent_dim", "loss", "lr_d", "n_critic", "d_norm", "spectral_norm"}
    assert not relevant_fields(TrainConfig().to_dict()) & {"sample_steps", "guidance", "label_dropout"}


def test_the_latent_is_the_image_sized_noise():
    cfg = TrainConfig(model="diffusion", channels=3, image_size=32)
    assert latent_size(cfg) == 3 * 32 * 32 and latent_size(TrainConfig()) == 100
    G, D = build_models(cfg)
    assert D is None and G(torch.randn(2, 3072), torch.tensor([0, 1]), steps=1).shape == (2, 3, 32, 32)
    assert MODELS.get("diffusion").kind == "diffusion" and not MODELS.get("diffusion").adversarial


def test_the_preset_is_a_valid_diffusion_config():
    cfg = apply_preset("diffusion")
    assert cfg.model == "diffusion" and cfg.dataset == "mnist5k" and cfg.time_budget > 0


# ---- explorers, CLI and verdict on a trained run ---------------------------------------------
@pytest.fixture(scope="module")
def diffusion_run(tmp_path_factory):
    res = train(tiny(epochs=1, guidance=2.0), runs_dir=tmp_path_factory.mktemp("runs"))
    assert res.state == "completed", res.error
    return res.run


def test_generate_and_the_walks_take_a_diffusion_run(diffusion_run):
    s = generate(diffusion_run, 4, seed=1, labels=2)
    assert s.images.shape == (4, 1, 28, 28) and (s.labels == 2).all()
    again = generate(diffusion_run, 4, seed=1, labels=2)
    assert (s.images == again.images).all()
    other = generate(diffusion_run, 4, seed=1, labels=2, steps=4, guidance=1.0)
    assert (s.images != other.images).any()
    walk = latent_walk(diffusion_run, 1, 2, steps=3, label_a=1, label_b=7, sample_steps=2)
    assert len(walk.frames) == 3
    h = get_generator(diffusion_run)
    corners = h.latents(4, 5).numpy()
    assert render_corner_grid(diffusion_run, corners, rows=2, cols=2, label=3).size[0] > 0
    assert len(class_morph(diffusion_run, corners[:1], 1, 7, steps=3)) == 1
    batch = make_batch(diffusion_run, n=4, seed=0, size=28)  # Real or fake
    assert sorted(item.kind for item in batch.items) == ["fake", "fake", "real", "real"]


def test_sampler_settings_are_checked(diffusion_run, tmp_path):
    h = get_generator(diffusion_run)
    with pytest.raises(ConfigError) as e:
        with_sampler(h, steps=0)
    assert e.value.field == "sample_steps"
    gan = train(TrainConfig(max_images=64, batch_size=32, epochs=1, device="cpu", eval_every=0), runs_dir=tmp_path)
    with pytest.raises(ValueError, match="one pass"):
        generate(gan.run, 2, seed=0, steps=4)


def test_cli_samples_a_diffusion_run_with_steps_and_guidance(diffusion_run, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert cli_main(["sample", str(diffusion_run.path), "--out", str(out), "--n", "3", "--seed", "0",
                     "--steps", "3", "--guidance", "2"]) == 0
    import numpy as np

    with np.load(out) as f:
        assert f["images"].shape == (3, 28, 28)
    assert cli_main(["sample", str(diffusion_run.path), "--out", str(out), "--steps", "0"]) != 0
    assert "sample_steps" in capsys.readouterr().err


def test_the_verdict_does_not_call_a_diffusion_run_collapsed():
    rows = [{"epoch": 1, "fm_loss": 0.5, "fid": 90.0, "classes_covered": 2, "eval_n": 500, "extractor": "digits"}]
    ten = [{"epoch": 1, "real_hist": [0.1] * 10}]
    assert verdict(rows, ten, kind="gan").kind == "mode_collapse"
    v = verdict(rows, ten, kind="diffusion")
    assert v.kind == "classes_missing" and v.label == "classes 2/10" and v.level == "warning"
    rows[0]["classes_covered"] = 10
    assert verdict(rows, ten, kind="diffusion").kind == "learning"
    rows[0]["fm_loss"] = float("nan")
    assert verdict(rows, ten, kind="diffusion").kind == "diverged"


def test_run_verdict_reads_the_kind_from_the_config(diffusion_run):
    from ganlib.store.run_health import run_verdict

    assert run_verdict(Run(diffusion_run.path)).kind in ("too_early", "learning")


def test_a_slow_preview_grid_is_spaced_out(tmp_path, monkeypatch):
    """The first minute's previews take at most a tenth of the time, however slow the sampler."""
    import time

    from ganlib.engine import trainer as trainer_module
    from ganlib.engine.training import prepare

    t = prepare(tiny(), runs_dir=tmp_path)
    drawn = []
    grid = t.rule.grid

    def slow_grid(*a, **kw):
        drawn.append(1)
        time.sleep(0.8)
        return grid(*a, **kw)

    monkeypatch.setattr(t.rule, "grid", slow_grid)
    t.write_preview(0.0)
    assert t.preview_gap >= 0.8 / trainer_module.PREVIEW_SHARE
    t.write_preview(trainer_module.PREVIEW_EVERY_S + 0.1)  # a fast grid would be due again
    assert len(drawn) == 1 and t.run.preview_path.is_file()


def test_the_train_charts_show_the_diffusion_loss():
    from ganlib.ui import charts

    rows = [{"epoch": 1, "fm_loss": 0.6, "grad_norm_g": 0.4}, {"epoch": 2, "fm_loss": 0.4, "grad_norm_g": 0.3}]
    loss, disc = charts.loss_figure(rows), charts.disc_figure(rows)
    assert loss.layout.title.text.startswith("Diffusion loss") and list(loss.data[0].y) == [0.6, 0.4]
    assert disc.layout.title.text == "Gradient norm"


def test_generate_and_the_walk_offer_a_diffusion_run_its_sampler(diffusion_run, monkeypatch):
    from tests.helpers import page, run

    monkeypatch.setenv("GANLIB_RUNS_DIR", str(diffusion_run.path.parent))
    at = run(page("app_pages/generate.py", timeout=120))
    assert at.slider(key="gen_sample_steps").value == 2 and at.slider(key="gen_guidance").value == 2.0
    assert "4 network evaluations per image" in [c.value for c in at.caption]
    first = at.image[0].proto.imgs[0].url
    at.slider(key="gen_sample_steps").set_value(5)
    at.slider(key="gen_guidance").set_value(1.0)
    run(at)
    assert "5 network evaluations per image" in [c.value for c in at.caption]
    assert at.image[0].proto.imgs[0].url != first  # drawn again with the new sampler
    at.switch_page("app_pages/latent_explorer.py")
    at.session_state["lx_tab"] = "Interpolate"
    run(at)
    assert at.slider(key="walk_sample_steps").value == 2


def test_real_or_fake_judges_a_diffusion_run_at_the_chosen_sampler_and_keeps_its_answers_apart(diffusion_run,
                                                                                                   monkeypatch):
    from ganlib.explore import human_eval as he
    from tests.helpers import page, run

    own = make_batch(diffusion_run, n=4, seed=3, size=28)
    fast = make_batch(diffusion_run, n=4, seed=3, size=28, steps=5, guidance=1.0)
    assert own.sampler == "2 steps, guidance 2" and fast.sampler == "5 steps, guidance 1"
    fakes = [i for i, it in enumerate(own.items) if it.kind == "fake"]
    assert [own.items[i].png for i in fakes] != [fast.items[i].png for i in fakes]  # drawn with other settings
    diffusion_run.human_eval_file.unlink(missing_ok=True)
    he.record_answer(diffusion_run, own, 0, "real")
    he.record_answer(diffusion_run, fast, 0, "fake")
    groups = [r["group"] for r in he.summary_rows(he.load_answers(diffusion_run))]
    assert groups[:2] == [f"{own.checkpoint} (2 steps, guidance 2)", f"{own.checkpoint} (5 steps, guidance 1)"]

    monkeypatch.setenv("GANLIB_RUNS_DIR", str(diffusion_run.path.parent))
    at = run(page("app_pages/real_or_fake.py", timeout=120))
    assert at.slider(key="rof_sample_steps").value == 2 and at.slider(key="rof_guidance").value == 2.0
    at.number_input(key="rof_n").set_value(10)
    at.slider(key="rof_sample_steps").set_value(3)
    run(at)
    at.button(key="rof_start").click()
    run(at)
    assert at.session_state["_rof_round"]["batch"].sampler == "3 steps, guidance 2"
    at.slider(key="rof_sample_steps").set_value(4)
    run(at)
    assert any("Start a round" in i.value for i in at.info)  # another setting: that round is not this one's


def test_the_cli_epoch_line_shows_a_diffusion_runs_own_loss():
    from ganlib.cli.train import epoch_line

    line = epoch_line({"epoch": 3, "fm_loss": 0.25, "grad_norm_g": 1.5, "images_per_sec": 900, "epoch_time_s": 4.0}, 10)
    assert line == "epoch  3/10  fm_loss 0.2500  grad_norm_g 1.5000  900 img/s  4.0s" and "nan" not in line

"""Every verdict rule of issue 22 both ways: a run that must trip it and one that must not, on
hand-made rows near each threshold, and the real short runs kept in tests/fixtures/health (made
by benchmarks/health_cases.py; each folder's command.txt says how). tests/test_health.py holds
the older rules (failed, diverged, classes covered, D winning, stalled)."""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from ganlib.metrics import health
from ganlib.metrics import health_rules as hr
from ganlib.metrics.health import verdict
from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict

FIXTURES = Path(__file__).parent / "fixtures" / "health"
UNTRAINED = {"epoch": 0, "untrained": True, "fid": 330.0, "eval_n": 500, "extractor": "digits"}


def epochs(n: int, **cols) -> list[dict]:
    return [{"epoch": e, "d_loss": 1.2 + 0.01 * (e % 3), "g_loss": 0.9 - 0.01 * (e % 2), "d_real": 0.6,
             "d_fake": 0.35, "grad_norm_d": 2.0, "grad_norm_g": 1.5, **cols} for e in range(1, n + 1)]


def evaluated(rows: list[dict], at: dict[int, dict]) -> list[dict]:
    for r in rows:
        if r["epoch"] in at:
            r.update({"fid": 100.0, "recall": 0.3, "precision": 0.5, "eval_n": 500, "extractor": "digits",
                      "pixel_spread": 0.9, **at[r["epoch"]]})
    return rows


def judge(rows, records=(UNTRAINED,), **kw):
    return verdict(rows, list(records), {"state": "running"}, **{"loss": "hinge", "kind": "gan", **kw})


# ---- the ceiling: the untrained generator ----------------------------------------------------
def test_worse_than_untrained_trips_at_or_above_the_ceiling_only():
    v = judge(evaluated(epochs(5), {5: {"fid": 2999.0}}))
    assert (v.kind, v.level) == ("worse_than_untrained", "error") and "330.0" in v.detail
    assert judge(evaluated(epochs(5), {5: {"fid": 330.0}})).kind == "worse_than_untrained"
    assert judge(evaluated(epochs(5), {5: {"fid": 200.0}})).kind == "learning"
    other_n = dict(UNTRAINED, eval_n=2000)  # another N: another scale, no ceiling
    assert judge(evaluated(epochs(5), {5: {"fid": 2999.0}}), [other_n]).kind == "learning"


def test_never_learning_with_precision_or_recall_near_zero():
    for p, r in [(0.0, 0.0), (0.01, 0.4), (0.5, 0.02)]:
        rows = evaluated(epochs(10), {5: {"fid": 250.0}, 10: {"fid": 215.0, "precision": p, "recall": r}})
        v = judge(rows)
        assert v.kind == "not_learning" and v.level == "error", (p, r, v)
    rows = evaluated(epochs(10), {5: {"fid": 250.0}, 10: {"fid": 215.0, "precision": 0.03, "recall": 0.03}})
    assert judge(rows).kind == "learning"


def test_near_zero_early_with_fid_well_under_the_ceiling_is_not_yet():
    rows = evaluated(epochs(5), {5: {"fid": 100.0, "precision": 0.3, "recall": 0.0}})
    v = judge(rows)
    assert v.kind == "too_early" and v.level == "info" and "on its way" in v.headline
    rows = evaluated(epochs(5), {5: {"fid": 200.0, "precision": 0.3, "recall": 0.0}})  # not half the ceiling
    assert judge(rows).kind == "not_learning"


def test_samples_all_alike_in_pixels_is_a_collapse_without_any_extractor():
    rows = evaluated(epochs(5), {5: {"fid": math.nan, "precision": math.nan, "recall": math.nan,
                                     "pixel_spread": 0.1, "extractor": "none"}})
    v = judge(rows, [])
    assert v.kind == "mode_collapse" and "alike" in v.headline
    rows = evaluated(epochs(5), {5: {"fid": math.nan, "precision": math.nan, "recall": math.nan,
                                     "pixel_spread": hr.PIXEL_ALIKE + 0.05, "extractor": "none"}})
    assert judge(rows, []).kind == "judged_without_quality"


def test_samples_as_alike_as_the_untrained_generators_are_not_a_collapse():
    """A fresh DCGAN draws near-constant images (a user's icon folder: spread 0.014 untrained,
    0.022 after 4 epochs): low, but rising. Only a fall below half the start is a collapse."""
    rows = evaluated(epochs(4), {4: {"fid": math.nan, "precision": math.nan, "recall": math.nan,
                                     "pixel_spread": 0.022, "extractor": "none"}})
    start = [{"epoch": 0, "untrained": True, "pixel_spread": 0.014, "extractor": "none"}]
    assert judge(rows, start).kind == "judged_without_quality"
    start[0]["pixel_spread"] = 0.05  # the collapsed fixture: 0.05 untrained, 0.001 after an epoch
    rows[-1]["pixel_spread"] = 0.001
    v = judge(rows, start)
    assert v.kind == "mode_collapse" and "0.05 before training" in v.detail


def test_without_a_quality_metric_the_box_says_so_and_is_never_green():
    rows = evaluated(epochs(5), {5: {"fid": math.nan, "precision": math.nan, "recall": math.nan,
                                     "pixel_spread": 0.8, "extractor": "none"}})
    note = "No feature metric (FID, KID, precision, recall): the images fit no shipped extractor"
    v = judge(rows, [{"epoch": 5, "extractor_note": note}])
    assert v.kind == "judged_without_quality" and v.level == "info" and "without a quality metric" in v.headline
    assert note in v.detail


def test_d_saturated_needs_a_near_zero_d_loss_for_three_epochs_and_a_margin_loss():
    rows = epochs(6, d_loss=0.001, d_real=5.0, d_fake=-5.0)
    rows[-2]["d_loss"], rows[-3]["d_loss"] = 0.002, 0.0005
    assert judge(rows).kind == "d_saturated"
    rows[-2]["d_loss"] = 0.5
    assert judge(rows).kind == "too_early"
    rows = epochs(6, d_loss=0.001)
    assert judge(rows, loss="wgan").kind != "d_saturated"  # a critic's loss has no floor at 0


def test_stuck_when_the_losses_stop_moving_or_g_gets_no_gradient():
    assert judge(epochs(6, d_loss=1.386, g_loss=0.693)).kind == "stuck"
    assert judge(epochs(6)).kind == "too_early"
    assert judge(epochs(6, grad_norm_g=0.0)).kind == "stuck"


def test_exploding_before_it_turns_nan():
    rows = epochs(6)
    rows[-1]["g_loss"] = 500.0
    v = judge(rows)
    assert v.kind == "exploding" and "g_loss" in v.headline
    rows[-1]["g_loss"] = 50.0  # 50x the median: not yet
    assert judge(rows).kind == "too_early"


def test_a_rule_judges_only_the_kinds_it_names():
    """A diffusion model has no discriminator and no noise to collapse from (issue 25)."""
    rows = epochs(6, d_loss=0.001)
    assert judge(rows, kind="gan").kind == "d_saturated"
    assert judge(rows, kind="diffusion").kind != "d_saturated"
    assert health.RULES.get("d_saturated").kinds and "diffusion" not in health.RULES.get("d_saturated").kinds
    assert health.RULES.get("worse_than_untrained").kinds is None  # every kind


# ---- advice never names what the run already has --------------------------------------------
def test_collapse_advice_does_not_name_the_runs_own_settings():
    rows = evaluated(epochs(15), {e: {"classes_covered": 1, "recall": 0.0} for e in (5, 10, 15)})
    recs = [{"real_hist": [0.1] * 10}, UNTRAINED]
    plain = judge(rows, recs)
    assert "recommended preset" in plain.advice and "batch size" in plain.advice
    preset = ("recommended", {"model": "cdcgan_compact", "loss": "hinge"})
    cfg = {"model": "cdcgan_compact", "loss": "hinge", "batch_size": 128, "minibatch_std": True}
    v = judge(rows, recs, config=cfg, suggested=preset)
    assert "preset" not in v.advice and "batch size" not in v.advice and "minibatch" not in v.advice and v.advice


# ---- best.pt against the ceiling -------------------------------------------------------------
def test_best_pt_is_never_a_generator_worse_than_the_untrained_one():
    from ganlib.engine.trainer import Trainer
    t = SimpleNamespace(evals=[UNTRAINED], best_fid=math.inf)
    assert not Trainer.beats_best(t, {"fid": 2999.0, "eval_n": 500, "extractor": "digits"})
    assert not Trainer.beats_best(t, {"fid": 330.0, "eval_n": 500, "extractor": "digits"})
    assert Trainer.beats_best(t, {"fid": 329.0, "eval_n": 500, "extractor": "digits"})
    assert not Trainer.beats_best(t, {"fid": math.nan, "eval_n": 500, "extractor": "none"})
    t.best_fid = 100.0
    assert not Trainer.beats_best(t, {"fid": 150.0, "eval_n": 500, "extractor": "digits"})


# ---- the real short runs ---------------------------------------------------------------------
def fixture_run(name: str) -> Run:
    path = FIXTURES / name
    assert path.is_dir(), f"{path} missing: make it with benchmarks/health_cases.py --case {name}"
    return Run(path)


def test_the_healthy_default_is_learning():
    v = run_verdict(fixture_run("healthy_default"))
    assert (v.kind, v.level) == ("learning", "success") and "untrained" in v.detail


def strip(rows: list[dict], *cols: str) -> list[dict]:
    """The rows as a run without those metrics would have written them (no classifier, no extractor)."""
    return [{k: ("" if k in cols else v) for k, v in r.items()} for r in rows]


def test_the_collapsed_run_is_a_collapse_with_or_without_an_extractor():
    run = fixture_run("collapsed")  # mlp_gan at lr 0.005: one image whatever the noise
    v = run_verdict(run)
    assert v.kind == "mode_collapse" and v.level == "error"
    rows = run.metrics()
    no_classes = verdict(strip(rows, "classes_covered"), [], {"state": "completed"}, loss="hinge", kind="gan")
    assert no_classes.kind == "mode_collapse"  # precision and recall 0, pixels alike
    no_features = strip(rows, "fid", "kid", "precision", "recall", "classes_covered", "is_mean", "class_kl",
                        "label_acc")
    v = verdict(no_features, [], {"state": "completed"}, loss="hinge", kind="gan")
    assert v.kind == "mode_collapse" and "alike" in v.headline  # from the pixels alone


def prefixes(run: Run):
    """The verdict as the page showed it after each epoch of the run."""
    rows, records, status = run.metrics(), run.evals(), run.status()
    for k in range(1, len(rows) + 1):
        epoch = int(float(rows[k - 1]["epoch"]))
        yield k, verdict(rows[:k], [r for r in records if int(r.get("epoch", 0)) <= epoch], status, loss="hinge",
                         kind="gan")


@pytest.mark.parametrize("case", ["icons_on_black", "collapsed", "colour_28px"])
def test_a_broken_run_is_never_green_at_any_epoch(case):
    for k, v in prefixes(fixture_run(case)):
        assert v.level != "success" and v.kind != "learning", (case, k, v)


def test_the_transparent_icon_run_read_on_black():
    """Adwaita's colour icons read as greyscale on black (as before issue 21), scored with the
    digit classifier as `auto` then did: FID 73 -> 639 against an untrained 73. Its samples are
    alike in pixels (spread 0.04) but were from the start (0.006): not learning, not a collapse."""
    run = fixture_run("icons_on_black")
    v = run_verdict(run)
    assert v.kind == "worse_than_untrained" and v.level == "error" and "73.1" in v.detail
    rows = strip(run.metrics(), "pixel_spread")  # the same without the pixel measure
    v = verdict(rows, run.evals(), run.status(), loss="hinge", kind="gan")
    assert v.kind == "worse_than_untrained" and "73.1" in v.detail
    assert "do not fit it" in run.evals()[-1]["extractor_note"]  # the record says the features do not fit


def test_colour_emoji_at_the_wrong_size():
    """emoji at 28 px with the default recipe, judged by the emoji extractor: FID 229 -> 178 -> 243
    against an untrained 185, recall 0, 2 of 9 groups: red, and the advice names the colour preset,
    not the default recipe the run is already on."""
    run = fixture_run("colour_28px")
    v = run_verdict(run)
    assert v.kind == "mode_collapse" and v.level == "error" and "recommended" not in v.advice
    assert "colour32 preset" in v.advice  # the recipe measured for colour data (issue 22 item 5)
    assert v.detail.startswith("At epoch 3 the classifier finds only 2 of 9")
    rows = strip(run.metrics(), "classes_covered", "pixel_spread")  # the rules on FID and recall alone
    v = verdict(rows, run.evals(), run.status(), loss="hinge", kind="gan")
    assert v.kind == "worse_than_untrained" and "184.8" in v.detail
    v = verdict(rows[:2], run.evals()[:3], run.status(), loss="hinge", kind="gan")  # epoch 2: FID under the ceiling
    assert v.kind == "mode_collapse" and "recall 0.00" in v.headline  # recall 0 twice, precision 0.24

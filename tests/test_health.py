"""The health verdict (`ganlib.metrics.health`) on hand-made metrics rows, one test per kind, and
its reading of a run folder (`ganlib.store.run_health`)."""
from __future__ import annotations

import math

import pytest

from ganlib.metrics import health
from ganlib.metrics.health import KINDS, verdict
from ganlib.metrics.health_rules import D_FAKE_LOW, D_WIN_EPOCHS
from ganlib.store.run_folder import Run
from ganlib.store.run_health import run_verdict, summary_row

TEN = [{"real_hist": [0.1] * 10}]  # an evals.jsonl record: the data has 10 classes


def epochs(n: int, **cols) -> list[dict]:
    """n plain BCE epochs (D(G(z)) 0.35, losses moving a little as real ones do), `cols` overriding
    columns of every row."""
    return [{"epoch": e, "d_loss": 1.2 + 0.01 * (e % 3), "g_loss": 0.9 - 0.01 * (e % 2), "d_real": 0.6,
             "d_fake": 0.35, "grad_norm_d": 2.0,
             "grad_norm_g": 1.5, **cols} for e in range(1, n + 1)]


def evaluated(rows: list[dict], at: dict[int, dict]) -> list[dict]:
    """`rows` with evaluation columns on the epochs in `at` (digits, N=500)."""
    for r in rows:
        if r["epoch"] in at:
            r.update({"fid": 100.0, "recall": 0.3, "precision": 0.5, "eval_n": 500, "extractor": "digits",
                      **at[r["epoch"]]})
    return rows


# ---- too early / learning -----------------------------------------------------------------
def test_nothing_to_judge_yet():
    v = verdict([], status={"state": "queued"})
    assert v.kind == "too_early" and v.level == "info" and v.label == "too early" and v.advice
    v = verdict(epochs(2), loss="nonsaturating")
    assert v.kind == "too_early" and "no evaluation yet" in v.headline


def test_learning_when_fid_falls_and_every_class_is_there():
    rows = evaluated(epochs(10), {5: {"fid": 300.0, "classes_covered": 10}, 10: {"fid": 120.0, "classes_covered": 10,
                                                                               "label_acc": 0.93}})
    v = verdict(rows, TEN, {"state": "running"}, loss="nonsaturating")
    assert (v.kind, v.level, v.label) == ("learning", "success", "learning")
    assert v.headline == "Learning: FID falling, nothing wrong."
    assert "FID 300.0 → 120.0 over 2 evaluations" in v.detail and "10 of 10 classes" in v.detail
    assert "label accuracy 93%" in v.detail and v.advice


def test_one_lost_class_is_not_a_collapse():
    rows = evaluated(epochs(10), {5: {"fid": 300.0, "classes_covered": 10}, 10: {"fid": 200.0, "classes_covered": 9}})
    assert verdict(rows, TEN, loss="nonsaturating").kind == "learning"


# ---- mode collapse -----------------------------------------------------------------------
def test_collapse_from_the_first_evaluation_on():
    """The issue's run: one class at every evaluation, so nothing ever drops."""
    rows = evaluated(epochs(15), {e: {"fid": 5467.0, "classes_covered": 1, "recall": 0.0, "label_acc": 0.1}
                                  for e in (5, 10, 15)})
    v = verdict(rows, TEN, {"state": "completed"}, loss="nonsaturating")
    assert (v.kind, v.level, v.label) == ("mode_collapse", "error", "collapse 1/10")
    assert v.headline == "Mode collapse: 1 of 10 classes."
    assert "recall 0.00" in v.detail and "label accuracy 10%" in v.detail
    assert v.advice.startswith("Try the recommended preset. Raise the batch size")


def test_collapse_at_the_very_first_evaluation_says_it_may_be_too_young():
    rows = evaluated(epochs(1), {1: {"classes_covered": 1}})
    v = verdict(rows, TEN, loss="nonsaturating")
    assert v.kind == "mode_collapse" and "first evaluation" in v.detail


def test_collapse_at_half_the_classes_or_fewer():
    rows = evaluated(epochs(5), {5: {"classes_covered": 5}})
    assert verdict(rows, TEN).label == "collapse 5/10"
    rows = evaluated(epochs(5), {5: {"classes_covered": 6}})
    assert verdict(rows, TEN).kind == "learning"


def test_collapse_starting_when_classes_drop():
    rows = evaluated(epochs(15), {5: {"classes_covered": 10}, 10: {"classes_covered": 10},
                                  15: {"classes_covered": 7}})
    v = verdict(rows, TEN, loss="nonsaturating")
    assert v.kind == "mode_collapse" and v.label == "collapse 7/10"
    assert v.headline == "Mode collapse starting: classes covered fell from 10 to 7 of 10."


def test_collapse_without_a_class_count_from_recall():
    """Colour data (Inception): no classes covered, recall near 0 twice while samples look typical."""
    rows = evaluated(epochs(10), {5: {"recall": 0.01, "precision": 0.6}, 10: {"recall": 0.0, "precision": 0.7}})
    v = verdict(rows, loss="hinge")
    assert v.kind == "mode_collapse" and v.label == "collapse" and "recall 0.00" in v.headline
    rows = evaluated(epochs(10), {5: {"recall": 0.2, "precision": 0.6}, 10: {"recall": 0.0, "precision": 0.7}})
    v = verdict(rows, loss="hinge")  # once is not a collapse, but recall 0 is never "learning"
    assert v.kind == "not_learning" and "recall 0.000" in v.headline


def test_only_comparable_evaluations_count():
    """A drop in classes between evaluations at other N (or extractors) is not a drop."""
    rows = evaluated(epochs(10), {5: {"classes_covered": 10, "eval_n": 10_000}, 10: {"classes_covered": 8}})
    assert verdict(rows, TEN).kind == "learning"


# ---- D winning ---------------------------------------------------------------------------
def test_d_winning_needs_low_d_fake_for_n_epochs_in_a_row_with_bce():
    low = D_FAKE_LOW / 5
    rows = epochs(6)
    for r in rows[-D_WIN_EPOCHS:]:
        r["d_fake"], r["d_real"] = low, 0.99
    v = verdict(rows, loss="nonsaturating")
    assert (v.kind, v.level, v.label) == ("d_winning", "warning", "D winning")
    assert "lr_d" in v.advice and ("label smoothing" in v.advice or "DiffAugment" in v.advice)
    assert verdict(rows, loss="wgan").kind == "too_early"  # a critic's score is no probability
    assert verdict(rows).kind == "too_early"  # loss unknown: no D-winning rule
    rows[-D_WIN_EPOCHS]["d_fake"] = 0.2  # only D_WIN_EPOCHS - 1 epochs in a row
    assert verdict(rows, loss="nonsaturating").kind == "too_early"


# ---- diverged, failed, stalled -------------------------------------------------------------
def test_diverged_from_the_state():
    v = verdict(epochs(3), status={"state": "diverged", "epoch": 3, "error": "d_loss is NaN at epoch 3"})
    assert (v.kind, v.level, v.label) == ("diverged", "error", "diverged")
    assert "NaN" in v.detail and "learning rates" in v.advice


@pytest.mark.parametrize("column, value", [("d_loss", 1.3e11), ("g_loss", -math.inf), ("d_loss", math.nan),
                                           ("neg_elbo", 5e6), ("grad_norm_d", 1e7)])
def test_diverged_from_huge_numbers_in_a_completed_run(column, value):
    """The issue's lr 1 runs ended 'completed' with a D loss of 1.3e11."""
    rows = evaluated(epochs(5), {5: {"classes_covered": 1}})  # collapse too: divergence comes first
    rows[-1][column] = value
    v = verdict(rows, TEN, {"state": "completed"}, loss="nonsaturating")
    assert v.kind == "diverged" and column in v.headline


def test_failed_run_says_to_read_the_error():
    v = verdict([], status={"state": "failed", "error": "batch_size: batch of 512 is larger than the 256 images"})
    assert (v.kind, v.level, v.label) == ("failed", "error", "failed") and "batch_size" in v.detail


def test_stalled_when_fid_has_not_improved_for_two_evaluations():
    rows = evaluated(epochs(20), {5: {"fid": 100.0}, 10: {"fid": 50.0}, 15: {"fid": 60.0}, 20: {"fid": 70.0}})
    v = verdict(rows, loss="nonsaturating")
    assert (v.kind, v.level) == ("stalled", "warning") and "epoch 10" in v.headline
    rows[-1]["fid"] = 52.0  # within 10 % of the best: noise, not a stall
    assert verdict(rows, loss="nonsaturating").kind == "learning"


def test_every_kind_has_a_box_level_and_a_label():
    assert {level for level, _ in KINDS.values()} <= {"success", "info", "warning", "error"}
    assert list(health.RULES) == ["failed", "diverged", "exploding", "mode_collapse", "samples_alike",
                                  "worse_than_untrained", "precision_or_recall_near_zero", "d_winning",
                                  "d_saturated", "stuck", "stalled"]
    for name in health.RULES:
        assert health.RULES.get(name).threshold  # every rule states what trips it


# ---- a run folder --------------------------------------------------------------------------
def test_run_verdict_reads_the_folder_and_survives_broken_files(tmp_path):
    run = Run(tmp_path / "00000-cgan-mnist5k")
    run.path.mkdir()
    (run.path / "config.json").write_text('{"model": "cgan", "loss": "nonsaturating"}')
    run.write_metrics(evaluated(epochs(5), {5: {"classes_covered": 1}}))
    run.write_evals(TEN)
    assert run_verdict(run).label == "collapse 1/10"
    assert summary_row(run)["health"] == "collapse 1/10"
    (run.path / "config.json").write_text("{not json")  # the loss is lost, the verdict is not
    assert run_verdict(run).label == "collapse 1/10"
    (run.path / "metrics.csv").unlink()
    (run.path / "metrics.csv").mkdir()  # unreadable
    assert run_verdict(run).label == "?"
    row = summary_row(run)
    assert row["health"] == "?" and row["status"] == "?" and row["run"] == run.name

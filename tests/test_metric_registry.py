"""The metric registry is the one table evaluation, the tables, Compare runs and the charts read."""
import pytest

from ganlib.explore import run_comparison
from ganlib.metrics.metric_registry import (
    METRICS,
    STD_COLUMNS,
    TRAINING,
    Metric,
    eval_columns,
    metric_label,
    shown_metrics,
)


def test_every_metric_is_well_formed():
    for name in METRICS:
        m = METRICS.get(name)
        assert m.name == name and m.label and m.direction in ("lower", "higher", "")
        if m.std:
            assert m.std in METRICS and m.std in STD_COLUMNS
        for fmt in (m.tile_fmt, m.table_fmt):
            format(1.0, fmt)  # a bad format string fails here, not on a page


def test_a_metric_refuses_an_unknown_direction_or_family_and_a_second_registration():
    with pytest.raises(ValueError, match="direction"):
        Metric("x", "x", "up")
    with pytest.raises(ValueError, match="family"):
        Metric("x", "x", "lower", compute={"audio": lambda x: {}})
    with pytest.raises(ValueError, match="already registered"):
        METRICS.add("fid", METRICS.get("fid"))


def test_fid_is_computed_by_both_evaluations_and_the_stats_by_neither():
    assert set(METRICS.get("fid").compute) == {"image", "translation"}
    assert "fid" in eval_columns("image") and "fid" in eval_columns("translation")
    assert {"d_loss", "g_loss", "neg_elbo", "d_real"} <= set(TRAINING)
    assert not set(TRAINING) & set(eval_columns("image"))
    assert "fid_std" not in {m.name for m in shown_metrics()}  # a std is shown beside its metric


def test_labels_scale_and_compare_read_the_registry():
    kid = METRICS.get("kid")
    assert kid.tile_text(0.008) == "8.00" and kid.lower_is_better and kid.title == "KID ×10³"
    assert METRICS.get("precision").title == "Precision" and not METRICS.get("precision").lower_is_better
    assert metric_label("d_fake") == "D(G(z))" and metric_label("my_new_stat") == "my new stat"
    assert run_comparison.label("kid") == kid.label  # Compare's labels are the registry's
    assert run_comparison.CURVE_ORDER.index("d_loss") < run_comparison.CURVE_ORDER.index("kid")
    assert "fid" in run_comparison.NOT_CURVES  # FID has its own charts on Compare runs, per extractor and N
    assert "fid_std" in run_comparison.NOT_CURVES and "eval_n" in run_comparison.NOT_CURVES

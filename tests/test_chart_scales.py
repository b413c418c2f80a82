"""Charts that read right (issue 22): D's outputs on the scale each loss records them in (read
from the loss registry, never a list of names), FID/KID axes fitted to the run's own values with
a ceiling far above them named by an arrow, a floor below 0 drawn at 0 with its noise, legends
below the plot, never over the title. The pages' AppTests (tests/test_page_train.py) hold the
same figures as shown."""
from __future__ import annotations

import pytest

from ganlib.losses import LOSSES
from ganlib.ui import charts

HINGE_ROWS = [{"epoch": 1, "d_real": 4.45, "d_fake": -2.93}, {"epoch": 2, "d_real": 3.1, "d_fake": -1.7}]
BCE_ROWS = [{"epoch": 1, "d_real": 0.8, "d_fake": 0.2}, {"epoch": 2, "d_real": 0.6, "d_fake": 0.35}]


def marks(fig) -> str:
    """Every trace name and annotation text of the figure (the reference lines are annotated shapes)."""
    return " ".join([t.name or "" for t in fig.data] + [a.text or "" for a in fig.layout.annotations])


@pytest.mark.parametrize("loss", list(LOSSES))
def test_d_outputs_on_each_losss_scale(loss):
    bce = LOSSES.get(loss).bce
    fig = charts.disc_figure(BCE_ROWS if bce else HINGE_ROWS, loss=loss)
    title = fig.layout.yaxis.title.text
    assert title == LOSSES.get(loss).d_scale.axis
    names = marks(fig)
    if bce:
        assert "probability" in title and "0.5" in names
        assert tuple(fig.layout.yaxis.range) == pytest.approx((-0.02, 1.02))
    else:
        assert "probability" not in title
        assert [a.text for a in fig.layout.annotations] == [t for _, t in LOSSES.get(loss).d_scale.lines]
        if loss in ("hinge", "wgan", "wgan_gp"):
            assert "0.5" not in names
        rng = fig.layout.yaxis.range
        ys = [v for r in HINGE_ROWS for v in (r["d_real"], r["d_fake"])]
        assert rng is None or (rng[0] <= min(ys) and rng[1] >= max(ys))  # never clipped


def test_an_unknown_loss_is_shown_raw_without_the_half_line():
    fig = charts.disc_figure(HINGE_ROWS, loss=None)
    assert "raw" in fig.layout.yaxis.title.text and "0.5" not in marks(fig)


def evaluated_rows(fids, kids=None, floor=0.4, kid_floor=-0.00216):
    return [{"epoch": e, "fid": f, "fid_std": 0.1, "kid": (kids or [0.01] * len(fids))[i], "kid_std": 0.001,
             "fid_floor": floor, "kid_floor": kid_floor, "kid_floor_std": 0.0005, "eval_n": 2000,
             "extractor": "digits"} for i, (e, f) in enumerate(zip(range(5, 5 * len(fids) + 1, 5), fids))]


def test_fid_axis_shows_progress_under_a_far_ceiling():
    """15.5 -> 2.6 under an untrained 300: a log axis fitted to the run, the ceiling an arrow."""
    rows = evaluated_rows([15.5, 6.0, 2.6])
    untrained = {"epoch": 0, "untrained": True, "fid": 300.0, "kid": 18.635, "eval_n": 2000, "extractor": "digits"}
    fig = charts.fid_figure(rows, untrained)
    top = fig.layout.meta["top"]
    assert top < 300 and fig.layout.yaxis.type == "log"
    assert any("above the chart" in (a.text or "") for a in fig.layout.annotations)


def test_kid_floor_below_zero_is_drawn_at_zero_with_its_noise():
    rows = evaluated_rows([15.5, 6.0, 2.6], kids=[0.02, 0.01, 0.004])
    untrained = {"epoch": 0, "untrained": True, "fid": 300.0, "kid": 18.635, "eval_n": 2000, "extractor": "digits"}
    fig = charts.kid_figure(rows, untrained)
    floor = next(t for t in fig.data if "floor" in (t.name or ""))
    assert set(floor.y) == {0.0} and "-2.16" in floor.name and "zero up to its noise" in floor.name
    assert fig.layout.yaxis.range[1] < 1e3 * 18.635  # the ceiling does not stretch the axis


def test_legends_sit_under_the_plot_not_over_the_title():
    for fig in (charts.disc_figure(BCE_ROWS, loss="nonsaturating"), charts.loss_figure(BCE_ROWS),
                charts.fid_figure(evaluated_rows([10.0, 5.0])), charts.kid_figure(evaluated_rows([10.0, 5.0]))):
        legend = fig.layout.legend
        assert legend.orientation == "h" and legend.yref == "container" and legend.y == 0
        assert legend.yanchor == "bottom"

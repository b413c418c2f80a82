"""Clicking a curve point opens that epoch: its grid cut back into tiles, each tile's nearest
training image, and the charts' marks for edits and a fork's parent curves."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlib.core.images import grid_image, save_grid, tile
from ganlib.data import cached_run_data
from ganlib.engine.forks import fork
from ganlib.engine.training import train
from ganlib.explore.epoch_inspect import grid_tiles, inspect_epoch, nearest_grid_epoch
from ganlib.ui import chart_lineage, charts


@pytest.mark.parametrize("n, nrow, size, channels", [(64, 8, 28, 1), (30, 10, 28, 1), (12, 8, 32, 3)])
def test_grid_tiles_recovers_the_images_to_half_a_grey_level(tmp_path, n, nrow, size, channels):
    images = torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(n)) * 2 - 1
    path = save_grid(images, tmp_path / "grid.png", nrow=nrow)
    tiles, ncol = grid_tiles(path, size)
    assert ncol == nrow
    # 12 images in rows of 8: the white padding of the short last row comes back as 4 blank tiles
    full_rows = -(-n // nrow) * nrow
    assert tiles.shape == (full_rows, channels, size, size)
    assert (tiles[:n] - images).abs().max() <= 1 / 127.5 + 1e-6
    assert bool((tiles[n:] == 1).all())


@pytest.mark.parametrize("n, nrow, channels, padding", [(64, 8, 1, 2), (30, 10, 1, 2), (12, 8, 3, 2), (1, 8, 1, 2),
                                                      (5, 2, 3, 0), (7, 3, 1, 4)])
def test_grids_are_laid_out_as_torchvisions_make_grid(n, nrow, channels, padding):
    """Our tiler replaces make_grid only because torchvision is slow to import: the same pixels."""
    from torchvision.utils import make_grid  # the reference

    images = torch.rand(n, channels, 9, 7, generator=torch.Generator().manual_seed(n)) * 2.4 - 1.2
    ref = make_grid(images.clamp(-1, 1), nrow=nrow, padding=padding, normalize=True, value_range=(-1, 1),
                    pad_value=1.0)
    ours = tile(images.clamp(-1, 1).add(1).div(2), nrow, padding)
    assert torch.equal(ours, ref[:1] if channels == 1 else ref)  # make_grid makes grey tiles RGB
    png = torch.from_numpy(np.array(grid_image(images, nrow, padding)))
    want = ref.mul(255).round().to(torch.uint8).permute(1, 2, 0)
    assert torch.equal(png, want[..., 0] if channels == 1 else want)


def test_grid_tiles_refuses_a_png_that_is_not_such_a_grid(tmp_path):
    path = save_grid(torch.zeros(4, 1, 28, 28), tmp_path / "grid.png", nrow=2)
    with pytest.raises(ValueError, match="not a grid of 32-px images"):
        grid_tiles(path, 32)


def test_inspect_finds_training_images_planted_in_a_grid(tiny_cfg, tmp_path):
    """A grid made of training images: each tile's nearest training image is itself, at ~0."""
    res = train(tiny_cfg(epochs=1, eval_every=0), runs_dir=tmp_path)
    data = cached_run_data(res.run.config())
    picks = torch.tensor([5, 17, 250, 3, 99, 400, 42, 7])
    save_grid(data.images[picks], res.run.sample_path(1), nrow=4)
    ins = inspect_epoch(res.run, 1.3)  # a click between epochs lands on the nearest saved grid
    assert ins.epoch == 1 and ins.columns == 4 and ins.n_train == len(data)
    same = data.images[torch.tensor(ins.train_indices)].flatten(1)
    assert torch.allclose(same, data.images[picks].flatten(1))  # itself, or an identical duplicate
    assert max(ins.distances) < 0.05  # only the PNG's 8-bit rounding
    assert ins.closest(2)[0][2] == min(ins.distances)
    assert ins.grid_png[:8] == ins.neighbours_png[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_a_trained_grid_matches_a_direct_search(tiny_cfg, tmp_path):
    res = train(tiny_cfg(epochs=2, eval_every=0), runs_dir=tmp_path)
    assert nearest_grid_epoch(res.run, 7) == 2 and nearest_grid_epoch(res.run, 0.4) == 0
    ins = inspect_epoch(res.run, 2)
    tiles, _ = grid_tiles(res.run.sample_path(2), 28)
    train_imgs = cached_run_data(res.run.config()).images.flatten(1).double()
    d = torch.cdist(tiles.flatten(1).double(), train_imgs)
    assert torch.allclose(torch.tensor(ins.distances, dtype=torch.float64), d.min(dim=1).values, atol=1e-6)
    assert ins.train_indices == d.argmin(dim=1).tolist()


def test_charts_mark_edits_and_overlay_the_parent_after_the_branch(tiny_cfg, tmp_path):
    parent = train(tiny_cfg(epochs=3, eval_every=0), runs_dir=tmp_path).run
    child = fork(parent, {"lr_d": 1e-4}, parent.checkpoint_path(1), runs_dir=tmp_path)
    train(child.config(), resume=child.path)
    ctx = chart_lineage.lineage_context(child)
    assert [(name, branch) for name, branch, _ in ctx.parents] == [(parent.name, 1)]
    assert [r["epoch"] for r in ctx.parents[0][2]] == [1, 2, 3]  # the parent from the branch point on
    fig = chart_lineage.annotate(charts.loss_figure(child.metrics()), ctx, {"d_loss": "D loss"})
    names = [t.name for t in fig.data]
    assert names == ["D loss", "G loss", f"D loss, parent {parent.name}"]
    assert list(fig.data[2].y) == [r["d_loss"] for r in parent.metrics()]
    (mark,) = fig.layout.shapes
    assert mark.x0 == mark.x1 == 1
    (note,) = fig.layout.annotations
    assert note.text == "fork: lr_d" and note.hovertext == "fork after epoch 1: lr_d 0.0002 → 0.0001"
    # a run that is no fork and had no edits: nothing added
    plain = charts.loss_figure(parent.metrics())
    ctx = chart_lineage.lineage_context(parent)
    assert chart_lineage.annotate(plain, ctx, {"d_loss": "D loss"}).layout.shapes == ()


def test_clickable_charts_give_every_hoverable_line_markers():
    """Plotly selects points only on traces with markers: a long run's lines-only curve or a
    smoothed FID under the cursor would turn a click into an empty selection."""
    from ganlib.ui.epoch_view import clickable

    rows = [{"epoch": e, "d_loss": 1.0, "g_loss": 0.5, "fid": 100.0 - e, "fid_std": 1.0, "extractor": "digits",
             "eval_n": 256, "kid": 0.01, "fid_floor": 1.5, "kid_floor": 0.0} for e in range(1, 81)]
    untrained = {"epoch": 0, "untrained": True, "fid": 300.0, "kid": 8.0, "extractor": "digits", "eval_n": 256}
    for fig in (charts.loss_figure(rows), charts.fid_figure(rows, untrained), charts.kid_figure(rows, untrained)):
        assert any(t.mode == "lines" for t in fig.data)  # 80 epochs: lines only
        clickable(fig)
        hoverable = [t for t in fig.data if t.hoverinfo != "skip"]
        assert hoverable and all("markers" in t.mode for t in hoverable)
        band = [t for t in fig.data if t.hoverinfo == "skip"]
        assert all(t.mode == "lines" for t in band)  # the FID band draws no dots
        for t in fig.data:  # a click must not fade the other points: both states keep the trace's opacity
            own = 1 if t.marker.opacity is None else t.marker.opacity
            assert t.selected.marker.opacity == t.unselected.marker.opacity == own
    visible = charts.fid_figure(rows[:5], untrained)  # 5 epochs: FID points drawn as dots
    clickable(visible)
    raw = next(t for t in visible.data if t.name == "raw")
    assert raw.mode == "lines+markers" and raw.unselected.marker.opacity == 1


def test_reference_lines_floor_and_ceiling_of_the_same_extractor_and_n():
    rows = [{"epoch": e, "fid": 50.0 / e, "fid_std": 0.5, "kid": 0.02 / e, "kid_std": 0.001, "fid_floor": 1.25 + e,
             "kid_floor": 0.0005, "extractor": "digits", "eval_n": 1000} for e in (5, 10)]
    untrained = {"epoch": 0, "untrained": True, "fid": 295.0, "kid": 11.5, "extractor": "digits", "eval_n": 1000}
    fid = charts.fid_figure(rows, untrained)
    floor, ceiling = fid.data[-2:]
    assert floor.name == "real vs real (floor): 11.25" and floor.y == (11.25, 11.25)  # the latest row's
    assert ceiling.name == "untrained G (ceiling): 295.00" and ceiling.x == (0, 5, 10) and set(ceiling.y) == {295.0}
    kid = charts.kid_figure(rows, untrained)
    assert kid.layout.yaxis.title.text == "KID ×10³ (lower is better)"
    assert kid.data[0].y == pytest.approx((4.0, 2.0)) and [t.name for t in kid.data[1:]] == [
        "real vs real (floor): 0.50", "untrained G (ceiling): 11500.00"]
    # Another N: the untrained record is another quantity, so no ceiling; the context adds it once.
    other = {**untrained, "eval_n": 500}
    assert [t.meta for t in charts.fid_figure(rows, other).data].count("ceiling") == 0
    plain = charts.fid_figure(rows)
    ctx = chart_lineage.Lineage(untrained=untrained)
    chart_lineage.annotate(plain, ctx, {"fid": "FID"}, rows)
    chart_lineage.annotate(plain, ctx, {"fid": "FID"}, rows)
    assert [t.name for t in plain.data if t.meta == charts.CEILING] == ["untrained G (ceiling): 295.00"]
    compare = dict(charts.fid_compare_figures({"a": rows, "b": rows}, {"a": untrained}))[("digits", 1000)]
    assert [t.name for t in compare.data if t.meta] == ["a untrained G (ceiling): 295.00",
                                                        "real vs real (floor): 11.25"]

"""The Train page's live charts before the first epoch ends: running means and the preview."""
from __future__ import annotations

import os
import time

from ganlib.engine.training import train
from ganlib.ui import charts


def test_loss_chart_draws_the_stream_before_any_epoch_row():
    stream = [{"epoch": 0.1 * i, "d_loss": 1.4 - 0.01 * i, "g_loss": 0.7 + 0.01 * i} for i in range(1, 8)]
    fig = charts.loss_figure([], stream)
    names = [t.name for t in fig.data]
    assert names == ["D loss (running)", "G loss (running)"]
    assert list(fig.data[0].x) == [r["epoch"] for r in stream]
    rows = [{"epoch": 1, "d_loss": 1.3, "g_loss": 0.8}]
    assert [t.name for t in charts.loss_figure(rows, stream).data] == names + ["D loss", "G loss"]
    assert [t.name for t in charts.loss_figure(rows).data] == ["D loss", "G loss"]


def test_the_newest_grid_is_the_preview_while_it_is_newer(tiny_cfg, tmp_path):
    run = train(tiny_cfg(epochs=1, eval_every=0), runs_dir=tmp_path).run
    path, caption = charts.newest_grid(run)
    assert path == run.sample_path(1) and "after epoch 1" in caption
    run.preview_path.write_bytes(run.sample_path(1).read_bytes())
    later = time.time() + 5
    os.utime(run.preview_path, (later, later))
    path, caption = charts.newest_grid(run)
    assert path == run.preview_path and "preview" in caption

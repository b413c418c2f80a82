"""Samples: the grid of each epoch with its losses and nearest training images, and the timelapse tab."""
from __future__ import annotations

from tests.helpers import (
    page,
    run,
)


def test_samples_shows_a_grid_per_epoch_with_download(runs):
    at = run(page("app_pages/samples.py"))
    at.selectbox(key="samples_run").set_value(runs.cgan.name)
    run(at)
    slider = at.select_slider(key=f"samples_epoch_{runs.cgan.name}")
    assert list(slider.options) == ["0", "1", "2"] and slider.value == 2
    slider.set_value(1)
    run(at)
    assert len(at.image) == 1 and at.image[0].value[0].endswith(".png")
    assert f"{runs.cgan.name}, epoch 1" in at.image[0].proto.imgs[0].caption
    assert at.download_button(key="download_png").label == "Download PNG"
    assert at.get("metric")  # the epoch's losses
    at.toggle(key="samples_neighbours").set_value(True)
    run(at)
    captions = [i.proto.imgs[0].caption for i in at.image]
    assert "Samples after epoch 1 (fixed noise)" in captions  # the cgan grid: 10 rows, one per class
    assert any(c.startswith("Nearest training image of each sample") for c in captions)



def test_samples_timelapse_tab_animates_every_grid_with_downloads(runs):
    """The Timelapse page's features, now the Samples page's Timelapse tab."""
    at = page("app_pages/samples.py")
    at.session_state["samples_tab"] = "Timelapse"
    run(at)
    assert at.selectbox(key="samples_run").value == runs.cgan.name  # the newest run first
    assert len(at.image) == 1 and "3 grids, epochs 0–2" in at.image[0].proto.imgs[0].caption
    assert at.image[0].value[0].endswith(".gif")
    assert {at.download_button(key=k).label for k in ("tl_gif", "tl_mp4")} == {"Download GIF", "Download MP4"}
    at.slider(key="tl_fps").set_value(10)
    run(at)
    assert len(at.image) == 1 and not at.error


def test_samples_show_a_translation_runs_grids(tr_runs):
    at = page("app_pages/samples.py")
    at.session_state["samples_run"] = tr_runs.cyc.name
    run(at)
    assert at.image and not at.error
    at.session_state["samples_tab"] = "Timelapse"
    run(at)
    assert at.image and not at.error

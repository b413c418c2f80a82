"""The dashboard's map: every page, defined once, in named sections. `app.py` builds the sidebar
navigation from `PAGES` (Streamlit's `st.navigation` with `st.Page`), Home lists the same
pages with what each does, and the tests walk this list, so a page cannot exist that the
sidebar does not show.

    nav = navigation.build()      # st.navigation: the sidebar sections, then nav.run()
    for spec in navigation.PAGES: ...

Each page keeps the address it had before the pages were merged (`url_path`, e.g. /Samples).
The address of a page that was merged into another (`MOVED`: /Timelapse, /Latent_walk,
/Style_explorer, /Translate) opens its new home, on the tab that holds it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import streamlit as st

from ganlib.explore.translation import run_is_translation
from ganlib.store.run_folder import Run
from ganlib.ui import pickers

APP_TITLE = "GAN Workbench"


@dataclass(frozen=True)
class PageSpec:
    path: str  # the page's script, from the repository root
    title: str  # its name everywhere: sidebar, Home, the tab title, the pages' own hints
    icon: str
    section: str  # the sidebar's heading above it ("" for Home, at the top)
    url_path: str  # its address; "" for Home (the default page)
    summary: str  # what it does, as Home says it
    needs_runs: bool = True  # with no runs yet it says so and points to Train


@dataclass(frozen=True)
class Moved:
    """The address of a page merged into another: it opens `to`, with `state` set first (the tab
    that holds the old page's feature, a run it can show)."""

    url_path: str
    title: str
    to: str  # the new home's path
    state: dict[str, Any] = field(default_factory=dict)
    pick: Optional[Callable[[Run], bool]] = None  # preselect the newest run that passes (its picker's key below)
    pick_key: str = ""


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/home.py", "Home", ":material/home:", "", "",
             "the runs with their state and health, the device, and this map.", needs_runs=False),
    # ---- Train ----
    PageSpec("app_pages/train.py", "Train", ":material/model_training:", "Train", "Train",
             "set every option of a run (or start from a preset), start, resume or fork one, then pause, resume, "
             "stop or edit it live while the loss curves, D(x) / D(G(z)), the health verdict and the sample grid "
             "update.", needs_runs=False),
    PageSpec("app_pages/sweeps.py", "Sweeps", ":material/tune:", "Train", "Sweeps",
             "train every setting of a few fields with several seeds on Ray Tune; per setting the median and "
             "spread over seeds, whether two settings really differ, FID against time, and the best one into "
             "Train.", needs_runs=False),
    # ---- Inspect a run ----
    PageSpec("app_pages/samples.py", "Samples", ":material/grid_view:", "Inspect a run", "Samples",
             "the sample grid of every epoch with its losses and each sample's nearest training image, and the "
             "whole run as an animated timelapse (GIF or MP4)."),
    PageSpec("app_pages/evaluate.py", "Evaluate", ":material/analytics:", "Inspect a run", "Evaluate",
             "the full metric table of a checkpoint (FID, KID, IS, precision/recall, per class), beside other "
             "runs at the same extractor and N, real against generated classes, and each sample's nearest "
             "training image."),
    PageSpec("app_pages/compare_runs.py", "Compare runs", ":material/compare_arrows:", "Inspect a run", "Compare_runs",
             "the settings that differ, the curves overlaid (runs that differ only by seed as a median with its "
             "spread), FID during training per extractor and N, the latest grids side by side; clone a run into "
             "Train."),
    # ---- Sample and explore ----
    PageSpec("app_pages/generate.py", "Generate", ":material/auto_awesome:", "Sample and explore", "Generate",
             "new images from any checkpoint with a chosen or random seed (one label for all images or one per "
             "row), as PNG or NPZ; an image-to-image run (pix2pix, CycleGAN) translates held-out or uploaded "
             "images instead."),
    PageSpec("app_pages/latent_explorer.py", "Latent explorer", ":material/explore:", "Sample and explore",
             "Latent_explorer",
             "edit one latent along principal directions; truncation with its measured quality; interpolate "
             "between two seeds (animated GIF) or four corners; class morphs, latent arithmetic, pinned "
             "favourites; for a StyleGAN run, style mixing, noise, walks in Z and W, and path length."),
    # ---- Experiments ----
    PageSpec("app_pages/real_or_fake.py", "Real or fake", ":material/psychology_alt:", "Experiments", "Real_or_fake",
             "judge real and generated images one at a time; your error rate (HYPE) per checkpoint."),
    PageSpec("app_pages/augment.py", "Augment", ":material/dataset:", "Experiments", "Augment",
             "does the run's generator help a classifier? Accuracy on held-out real digits with real, real + "
             "generated and generated-only training data (CAS), over several seeds."),
    PageSpec("app_pages/playground.py", "Playground", ":material/scatter_plot:", "Experiments", "Playground",
             "a tiny GAN learning a 2-D point cloud live, to see the game and its failure modes.", needs_runs=False),
    # ---- Import and export ----
    PageSpec("app_pages/export_import.py", "Export and import", ":material/import_export:", "Import and export",
             "Export_import",
             "a run as a zip, its config as JSON or YAML, its metrics as TensorBoard logs; a zip or a weights file "
             "back in as a new run."),
)
BY_PATH = {p.path: p for p in PAGES}
BY_TITLE = {p.title: p for p in PAGES}


def _stylegan(run: Run) -> bool:
    try:
        return run.config().model == "stylegan"
    except Exception:  # noqa: BLE001 - an unreadable config is not a StyleGAN run
        return False


MOVED: tuple[Moved, ...] = (
    Moved("Timelapse", "Timelapse", "app_pages/samples.py", {"samples_tab": "Timelapse"}),
    Moved("Latent_walk", "Latent walk", "app_pages/latent_explorer.py", {"lx_tab": "Interpolate"}),
    Moved("Style_explorer", "Style explorer", "app_pages/latent_explorer.py", {"lx_tab": "Style mixing"},
          pick=_stylegan, pick_key="lx_run"),
    Moved("Translate", "Translate", "app_pages/generate.py", pick=run_is_translation, pick_key="gen_run"),
)


def _opener(moved: Moved) -> Callable[[], None]:
    def open_new_home() -> None:
        st.session_state.update(moved.state)
        if moved.pick is not None:
            fits = [r for r in pickers.list_runs() if moved.pick(r)]
            if fits:
                st.session_state[moved.pick_key] = st.session_state[pickers.SELECTED_RUN] = fits[-1].name
        st.switch_page(moved.to)

    open_new_home.__name__ = f"moved_{moved.url_path.lower()}"  # Streamlit names a callable page by it
    return open_new_home


def build():
    """The sidebar: the pages by section, Home first, and the old addresses (hidden)."""
    sections: dict[str, list] = {}
    for spec in PAGES:
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path or None,
                    default=spec.path == PAGES[0].path))
    moved = [st.Page(_opener(m), title=m.title, url_path=m.url_path, visibility="hidden") for m in MOVED]
    sections[PAGES[-1].section] = sections[PAGES[-1].section] + moved
    return st.navigation(sections, position="sidebar", expanded=True)


def link(title: str, label: Optional[str] = None) -> None:
    """A link to the page called `title` (its icon and name, unless `label`)."""
    spec = BY_TITLE[title]
    st.page_link(spec.path, label=label or spec.title, icon=spec.icon)

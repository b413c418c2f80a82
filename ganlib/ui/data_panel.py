"""The Train form's data panel: as soon as a dataset (a folder or zip with its path, or a built-in
set) is chosen, what it holds and a grid of its images exactly as the run will train on them
(size, channels, background, crop), before Start; and the image size and channels the data
suggests, with a button that puts them into the form.

    slot = st.container()                        # where the panel goes: above the form
    values = config_form(defaults, prefix="cfg")
    with slot:
        data_panel(values, prefix="cfg")

The facts come from `data.inspection.describe` (file headers only) and the grid from
`data.inspection.dataset_preview`; both are cached for a short while, so typing in the form
does not read the folder again on every keystroke. On a shared server a path outside the user's
allowed folders is refused before a byte of it is read (a preview would show another's images).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

import streamlit as st

from ganlib.core.errors import NotAllowed
from ganlib.data import MAY_DOWNLOAD, NEEDS_PATH, DatasetUnavailable
from ganlib.data.image_files import ReadOptions
from ganlib.data.inspection import DataReport, dataset_preview, describe
from ganlib.metrics.extractor_choice import AUTO, ExtractorChoice, choose_for_config
from ganlib.store.data_shape import suggested_shape
from ganlib.ui import resources, signin

CACHE_S = 30  # a folder's facts are read again after this long (files may have been added)
PREVIEW_N = 64


@st.cache_data(show_spinner="Reading the images' headers...", max_entries=16, ttl=CACHE_S)
def _report(dataset: str, data_path: str) -> DataReport | str:
    try:
        return describe(dataset, data_path)
    except (ValueError, OSError, DatasetUnavailable) as e:
        return " ".join(str(e).split())


@st.cache_data(show_spinner="Reading the preview images...", max_entries=16, ttl=CACHE_S)
def _preview(dataset: str, data_path: str, size: int, channels: int, background: str, resize_mode: str):
    try:
        return dataset_preview(dataset, data_path, ReadOptions(size, channels, background, resize_mode), PREVIEW_N)
    except (ValueError, OSError, DatasetUnavailable) as e:
        return " ".join(str(e).split())


@st.cache_data(show_spinner=False, max_entries=32, ttl=CACHE_S)
def _suggestion(values: tuple) -> Optional[tuple[int, int, str]]:
    try:
        return suggested_shape(dict(values))
    except (ValueError, OSError, DatasetUnavailable):
        return None


@st.cache_data(show_spinner="Choosing the feature extractor that fits the data...", max_entries=16, ttl=300)
def _choice(values: tuple) -> ExtractorChoice:
    """Cached a few minutes: a folder's probe reads up to 500 files, and a missing Inception file
    put in place is found soon."""
    d = dict(values)
    return choose_for_config(d.get("extractor", AUTO), SimpleNamespace(**d))


def metrics_line(values: dict[str, Any]) -> None:
    """Before Start, one line on the metrics this run will get: the extractor that fits its data,
    or why there will be no FID (and which weights to add), or a warning when the extractor asked
    for was made for other data."""
    if not values.get("eval_every"):
        return
    try:
        choice = _choice(tuple(sorted((k, v) for k, v in values.items() if v is not None)))
    except (ValueError, TypeError, KeyError):  # a half-filled form: the form's own errors say it
        return
    if choice.warning:
        st.warning(choice.warning, icon=":material/cloud_off:" if choice.name is None else ":material/warning:")
    else:
        why = choice.note.removeprefix(f"{AUTO}: {choice.name}, ")
        st.caption(f"Metrics (FID, KID, precision, recall) with the **{choice.name}** extractor" +
                   (f": {why}." if why else "."))


def _apply(prefix: str, size: int, channels: int) -> None:
    """on_click: runs before the form is drawn again, so its widgets start from these values."""
    st.session_state[f"{prefix}_image_size"] = int(size)
    st.session_state[f"{prefix}_channels"] = int(channels)


def data_panel(values: dict[str, Any], prefix: str = "cfg") -> None:
    dataset, path = values.get("dataset", ""), str(values.get("data_path") or "").strip()
    if dataset in MAY_DOWNLOAD:
        return
    if dataset in NEEDS_PATH and not path:
        st.info("Type the path of a folder (or .zip) of images under **Data path**: how many images, their "
                "classes, sizes and modes, and a preview as they will be trained appear here.",
                icon=":material/folder_open:")
        return
    if path:
        try:
            resources.server_settings().check_data_path(signin.actor(), path)  # shared mode only
        except NotAllowed as e:
            st.error(str(e), icon=":material/block:")
            return
    report = _report(dataset, path)
    if report is None:
        return
    with st.container(border=True):
        st.markdown("**The data, as it will be trained**")
        if isinstance(report, str):
            st.error(report, icon=":material/error:")
            return
        facts, grid = st.columns([3, 2])
        with facts:
            _facts(report)
            _suggest(values, prefix)
        with grid:
            _grid(values, dataset, path, report)


def _facts(report: DataReport) -> None:
    lines = report.lines()
    st.markdown("\n".join(f"- {line}" for line in lines if not line.startswith(("skipped", "exact", "suggested"))))
    if report.skipped:
        with st.expander(f"{len(report.skipped):,} files skipped, and why", icon=":material/block:"):
            st.code("\n".join(report.skipped[:200]) + ("\n..." if len(report.skipped) > 200 else ""), language=None)
    if report.duplicates:
        extra = sum(len(g) - 1 for g in report.duplicates)
        with st.expander(f"{extra:,} exact duplicates", icon=":material/content_copy:"):
            st.code("\n".join(" = ".join(g) for g in report.duplicates[:100]), language=None)


def _suggest(values: dict[str, Any], prefix: str) -> None:
    shape = _suggestion(tuple(sorted((k, v) for k, v in values.items() if v is not None)))
    if shape is None:
        return
    size, channels, why = shape
    if (values.get("image_size"), values.get("channels")) == (size, channels):
        st.caption(f"Image size {size} and {channels} channel{'s' if channels > 1 else ''}: what the data "
                   f"suggests ({why}).")
        return
    c_text, c_apply = st.columns([4, 1], vertical_alignment="center")
    c_text.warning(f"The data suggests **image size {size}** and **{channels} channel{'s' if channels > 1 else ''}** "
                   f"({why}); the form says {values.get('image_size')} and {values.get('channels')}.",
                   icon=":material/aspect_ratio:")
    c_apply.button("Apply", key=f"{prefix}_apply_shape", on_click=_apply, args=(prefix, size, channels),
                   icon=":material/check:", help="Put the suggested image size and channels into the form.")


def _grid(values: dict[str, Any], dataset: str, path: str, report: DataReport) -> None:
    if not report.n_images:
        st.caption("No readable image to preview.")
        return
    try:
        size, channels = int(values.get("image_size") or 64), int(values.get("channels") or 3)
        read = (size, channels, str(values.get("background") or "white"), str(values.get("resize_mode") or "crop"))
        ReadOptions(*read)
    except (TypeError, ValueError):
        st.caption("The preview waits for a valid size, channels, background and resize mode.")
        return
    shown = _preview(dataset, path, *read)
    if isinstance(shown, str):
        st.error(shown, icon=":material/error:")
        return
    image, n = shown
    rows = "one row per class" if len(report.classes) > 1 else "a square grid"
    st.image(image, output_format="PNG",
             caption=f"{n} images as trained: {size}x{size}, {'colour' if channels == 3 else 'gray'}, transparency on "
                     f"{read[2]}, {read[3]}; {rows}")

"""Where runs live and how a page picks one: the runs folder, the run, checkpoint and generator
pickers (the choice shared between pages), and the message of a page with nothing to show.

    runs = pickers.list_runs()               # runs under $GANLIB_RUNS_DIR (read at call time)
    run = pickers.pick_run(runs, key="samples_run")
    run, ckpt, handle = pickers.pick_generator("Generate", "gen")

The runs folder is read from the environment on every call, not at import time, so that
tests (and a relaunched server) can point the dashboard elsewhere without re-importing ganlib.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import streamlit as st

from ganlib.engine import forks
from ganlib.explore import sampling, translation
from ganlib.store import run_folder as runs_mod
from ganlib.store.checkpoints import checkpoint_choices
from ganlib.store.run_folder import Run
from ganlib.store.run_health import summary_row
from ganlib.store.sweep_folder import trial_runs

SELECTED_RUN = "_ganlib_selected_run"  # session key owned by no widget: the run shared across pages


def runs_root() -> Path:
    env = os.environ.get("GANLIB_RUNS_DIR")
    return Path(env) if env else runs_mod.DEFAULT_RUNS_DIR


def list_runs() -> list[Run]:
    """Every sweep's trials (named `<sweep>.<run>`), then the runs: the newest run stays last,
    the pickers' default."""
    return trial_runs(runs_root()) + runs_mod.list_runs(runs_root())


def runs_or_stop(what: str, keep: Optional[Callable[[Run], bool]] = None, none_kept: str = "") -> list[Run]:
    """The runs a page works on: all of them, or those `keep` accepts. With none, the page says
    so and stops: no run at all points to Train (`no_runs_info(what)`), none that fits says
    `none_kept`."""
    runs = list_runs()
    if not runs:
        no_runs_info(what)
        st.stop()
    if keep is None:
        return runs
    kept = [r for r in runs if keep(r)]
    if not kept:
        st.info(none_kept, icon=":material/info:")
        st.stop()
    return kept


def runs_table(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """`Run.summary()` rows with the health verdict ("health"), newest first; a run whose files
    cannot be read is a row of "?"."""
    return [summary_row(r) for r in reversed(list(runs))]


def pick_run(runs: Sequence[Run], key: str, label: str = "Run", help: Optional[str] = None) -> Run:
    """A run select box. The choice is shared between pages (Samples, Generate, Latent walk)
    through a session key that no widget owns; the newest run is the default."""
    by_name = {r.name: r for r in runs}
    names = list(by_name)
    if st.session_state.get(key) not in by_name:
        shared = st.session_state.get(SELECTED_RUN)
        st.session_state[key] = shared if shared in by_name else names[-1]
    labels = {n: _run_label(r) for n, r in by_name.items()}  # read the status once per render
    name = st.selectbox(label, names, key=key, help=help, format_func=lambda n: labels.get(n, n))
    st.session_state[SELECTED_RUN] = name
    return by_name[name]


def _run_label(run: Run) -> str:
    st_ = run.status().get("state", "unknown")
    return f"{run.name}  ({st_})"


def no_runs_info(what: str = "this page") -> None:
    st.info(f"No training runs yet, so there is nothing for {what} to show. "
            "Open **Train** in the sidebar, start a run, and come back once it has written "
            "a sample grid or a checkpoint.", icon=":material/info:")


def checkpoint_config(path: Path) -> dict[str, Any]:
    """The config a checkpoint holds, read once per file version: a form that reruns on every
    widget change would otherwise unpickle the whole checkpoint each time."""
    return _checkpoint_config(str(path), path.stat().st_mtime)


@st.cache_data(show_spinner=False, max_entries=32)
def _checkpoint_config(path: str, mtime: float) -> dict[str, Any]:
    return forks.checkpoint_config(path)


def pick_checkpoint(run: Run, key: str, container=None, *, default_best: bool = False, label: str = "Checkpoint",
                    help: Optional[str] = None) -> Optional[str]:
    """The one checkpoint picker: every checkpoint of the run, newest first, and best.pt when the
    run has one (`store.checkpoints.checkpoint_choices`). Returns the file name, or None when
    the run has no checkpoint yet."""
    choices = dict(checkpoint_choices(run))
    if not choices:
        return None
    names = list(choices)
    index = 0 if default_best or names[0] != "best.pt" else min(1, len(names) - 1)
    return (container or st).selectbox(label, names, index=index, key=f"{key}_ckpt_{run.name}",
                                       format_func=choices.get, help=help)


def first_checkpoint_text(run: Run) -> str:
    """What a sampling page says about a run that trains and has no checkpoint yet."""
    try:
        cfg = run.config()
        when = f"at the end of epoch {min(cfg.checkpoint_every, cfg.epochs)}"
    except Exception:  # noqa: BLE001 - a config that cannot be read only loses the epoch number
        when = "soon"
    return f"{run.name} is training and has no checkpoint yet: the first is written {when}; sample it then."


def pick_generator(page: str, key: str, *, translators: bool = False):
    """The run, checkpoint and generator handle a sampling page works on: a run picker, the
    checkpoint picker, and the generator loaded once. Stops the page with a message when there
    is nothing to sample, or (unless `translators`) when the run is an image-to-image one."""
    runs = runs_or_stop(page)
    if not translators:  # a page that samples from noise lists the runs that can (pix2pix and CycleGAN cannot)
        runs = [r for r in runs if not translation.run_is_translation(r)] or runs
    c_run, c_ck = st.columns([2, 1])
    with c_run:
        run = pick_run(runs, key=f"{key}_run")
    ckpt = pick_checkpoint(run, key, c_ck)
    if ckpt is None and run.status().get("state") in runs_mod.LIVE_STATES:
        st.info(first_checkpoint_text(run), icon=":material/hourglass_top:")  # not an error: it is coming
        st.stop()
    try:
        handle = sampling.get_generator(run, ckpt)
    except (FileNotFoundError, ValueError, KeyError) as e:
        st.error(str(e).strip("'\""), icon=":material/error:")
        st.stop()
    if translation.is_translator(handle) and not translators:
        st.info(f"{run.name} is an image-to-image run ({handle.config.get('model')}): it translates images "
                "rather than drawing them from noise. Open **Generate**: it translates them.",
                icon=":material/info:")
        st.stop()
    return run, ckpt, handle

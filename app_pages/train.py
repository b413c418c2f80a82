"""Train: configure and start a run (or resume or fork one), then watch, pause and stop it live.

The mode control switches between the three ways to start a job and the **Live view**; Start
opens the live view. The job runs in the process-wide JobManager's thread; the live view only
polls its snapshot from a fragment that refreshes every second while a job is active and not at
all otherwise. Any other run in the runs folder (e.g. one the CLI trains) can be watched too,
read from disk. Beside the losses: the health verdict, FID (raw, smoothed, ± 2 bootstrap std),
KID, the latest metric tiles and best FID, each value labelled with its extractor and N.
"""
from pathlib import Path

import streamlit as st

from ganlib.core.errors import NotAllowed
from ganlib.core.numbers import duration_text
from ganlib.engine.forks import fork
from ganlib.engine.tasks import TaskBusy
from ganlib.store.access import delete_run, may_manage
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.config import ConfigError, TrainConfig, fixed_in, with_changes
from ganlib.store.presets import PRESETS
from ganlib.store.run_folder import LIVE_STATES, Run
from ganlib.ui import (
    charts,
    epoch_view,
    evaluate_view,
    live_figures,
    pickers,
    queue_view,
    resources,
    signin,
    upload_view,
)
from ganlib.ui.chart_lineage import changes_text, edit_text
from ganlib.ui.config_form import (
    check_data,
    check_device,
    config_form,
    live_edit_widgets,
    preset_changes,
    preset_picker,
    preset_suggestion,
    train_defaults,
)
from ganlib.ui.data_panel import data_panel, metrics_line

REFRESH_S = 1.0
DISK_REFRESH_S = 3.0  # a run another process trains: read from disk
WAIT_REFRESH_S = 5.0  # a shared server's queue and a job waiting in it: only positions change
JOB_POLL_S = 2.0  # the start forms watch for the job's end, to enable Start again
JOB = "__job__"  # the "Run to watch" option that follows this server's current job
WATCH = "train_watch"
MODE = "train_mode"
LIVE = "Live view"
MODES = ["New run", "Resume a run", "Fork a run", LIVE]
GOTO_LIVE = "_train_goto_live"  # set by a start: the next script run opens the live view
STARTED = "_train_started"  # the start's toast, shown after that rerun

st.title("Train")
me = signin.actor()  # LOCAL on a laptop; on a shared server the signed-in user, whose jobs and runs these are
shared = resources.server_settings().shared
jm = resources.get_job_manager()
if st.session_state.pop(GOTO_LIVE, False):
    st.session_state[MODE] = LIVE  # before the mode control is drawn: the view follows the new job
if STARTED in st.session_state:
    st.toast(st.session_state.pop(STARTED), icon=":material/play_arrow:")


def busy_reason() -> str | None:
    """Why no job can start now (the task runner's admission rule: a job or an experiment holds
    the slot), or None."""
    why = jm.runner.refusal("training", me.name, queue=True)  # a shared server queues: only a full queue refuses
    snap = jm.current(me.name)
    if why and snap and snap["active"] and not jm.runner.queueing:
        why += f" (job {snap['id']}: epoch {snap['epoch']}/{snap['epochs']}, {snap['state']}; stop it on **{LIVE}**)"
    return why + "." if why else None


def start(cfg: TrainConfig, resume=None) -> None:
    """Hand the config to the job manager (TaskBusy when the task runner admits nothing now) and
    open the live view on the new job."""
    try:
        job_id = jm.start(cfg, resume=resume, actor=me)
    except (TaskBusy, NotAllowed) as e:
        st.warning(f"{e}.", icon=":material/hourglass_top:")
        return
    st.session_state[WATCH] = JOB  # follow the new job
    st.session_state[GOTO_LIVE] = True
    position = jm.snapshot(job_id, series=False)["position"]
    st.session_state[STARTED] = (f"Job {job_id} waits in the queue: number {position}." if position else
                                 f"Started job {job_id}: {cfg.model} on {cfg.dataset}, up to epoch {cfg.epochs}.")
    st.rerun()


def _open_live() -> None:
    st.session_state[MODE] = LIVE


def job_banner(was_active: bool) -> None:
    """Above the start forms while a job trains: what it is doing and a way to its live view;
    when it ends, the page reruns so that Start is enabled again."""
    reason = busy_reason()
    if was_active and reason is None:
        st.rerun()
    if reason:
        c_text, c_go = st.columns([5, 1], vertical_alignment="center")
        c_text.info(reason, icon=":material/hourglass_top:")
        c_go.button("Watch it", key="goto_live", icon=":material/monitoring:", on_click=_open_live)


def fork_form() -> None:
    """A new run that continues from a checkpoint of another with edited hyperparameters; it
    restores the full state, so its curves continue (and overlay) the parent's."""
    candidates = [r for r in pickers.list_runs() if r.checkpoints() and may_manage(me, r.owner())]
    if not candidates:
        st.info("No run of yours has a checkpoint to fork from yet: train one first.")
        return
    parent = pickers.pick_run(candidates, key="fork_run", label="Run to fork",
                           help="Any run with a checkpoint, also one that is training now.")
    ck_name = pickers.pick_checkpoint(parent, "fork", label="From checkpoint",
                                   help="The fork starts from this checkpoint's models, optimizers, RNG and epoch.")
    ck_path = find_checkpoint(parent, ck_name)
    ck_label = ck_name if ck_name == "best.pt" else f"epoch {int(ck_path.stem.split('_')[1])}"
    try:
        base = pickers.checkpoint_config(ck_path)
    except Exception as e:  # noqa: BLE001 - a damaged checkpoint
        st.error(f"Cannot read {ck_label} of {parent.name}: {type(e).__name__}: {e}")
        return
    st.caption(f"Architecture, data and loss stay the parent's ({base['model']} on {base['dataset']}, "
               f"{base['loss']} loss); change the rest below. Changed fields are recorded as the fork's edit.")
    values = config_form(defaults=base, prefix=f"fork_{parent.name}_{ck_path.stem}", fixed=fixed_in("fork"))
    changes = {k: v for k, v in values.items() if v != base.get(k)}
    try:
        check_device(values["device"])
        check_data(TrainConfig.from_dict(values))
    except ConfigError as e:
        st.error(f"Cannot fork: **{e.field}**: {str(e).split(': ', 1)[-1]}", icon=":material/error:")
        return
    st.markdown("**Changes:** " + (changes_text({k: (base.get(k), v) for k, v in changes.items()})
                                   or "none (the fork retraces its parent)"))
    busy = busy_reason() is not None
    if busy:
        st.caption("A job is training: the fork is created now, and **Resume a run** trains it once the job ends.")
    if st.button("Create the fork" if busy else "Fork and train", type="primary", key="fork_start",
                 icon=":material/call_split:"):
        try:
            child = fork(parent, changes, ck_path, actor=me)
        except (ConfigError, FileNotFoundError, NotAllowed) as e:
            st.error(f"Cannot fork: {e}", icon=":material/error:")
            return
        if busy:
            st.success(f"Created `{child.name}`, forked from `{parent.name}` at {ck_label}.")
        else:
            start(child.config(), resume=str(child.path))


def new_run_form(defaults) -> None:
    """A preset picker and Start at the top, the config boxes below. The preset fills every
    widget; each stays editable, and the edits since the preset are listed."""
    if shared:
        with st.expander("Your own images", icon=":material/upload:"):
            upload_view.panel(resources.server_settings(), me)
    c_preset, c_start, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
    with c_preset:
        preset = preset_picker("cfg")
    notes = st.container()  # filled below, once the values are known: the preset, the edits, errors
    data_slot = st.container()  # the data panel, above the form: what will be trained
    values = config_form(defaults=defaults, prefix="cfg")
    with data_slot:
        data_panel(values, prefix="cfg")
        metrics_line(values)
        preset_suggestion(values, prefix="cfg")
    cfg, problem = None, None
    try:
        cfg = TrainConfig.from_dict(values)
        check_device(cfg.device)
        check_data(cfg)
    except ConfigError as e:
        cfg, problem = None, f"Cannot start: **{e.field}**: {str(e).split(': ', 1)[-1]}"
    reason = busy_reason()
    clicked = c_start.button("Start training", type="primary", key="start", icon=":material/play_arrow:",
                             disabled=cfg is None or reason is not None, width="stretch",
                             help=reason or problem or "Starts the run and opens its live view.")
    edits = preset_changes(preset, values)
    with notes:
        st.caption(f"**{preset}**: {PRESETS.get(preset).description}" if not edits else
                   f"**{preset}**, edited: " + changes_text(edits))
        if problem:
            st.error(problem, icon=":material/error:")
    if clicked and cfg is not None:
        start(cfg)


def resume_form() -> None:
    candidates = [r for r in pickers.list_runs() if r.status().get("state") not in LIVE_STATES
                  and may_manage(me, r.owner())]
    if not candidates:
        st.info("No run of yours to resume yet: start a new run first (runs that are training now are not listed).")
        return
    run = pickers.pick_run(candidates, key="resume_run", label="Run to continue",
                        help="Training restarts from the run's latest checkpoint.")
    try:
        cfg0 = run.config()
    except Exception as e:  # noqa: BLE001 - a hand-edited config.json
        st.error(f"Cannot read {run.name}/config.json: {e}")
        return
    state = run.status().get("state", "unknown")
    ck = run.checkpoints()
    ck_epoch = ck[-1][0] if ck else 0
    st.caption(f"{cfg0.model} on {cfg0.dataset}, {cfg0.loss} loss; state **{state}**; "
               f"planned {cfg0.epochs} epochs; latest checkpoint: "
               + (f"epoch {ck_epoch}" if ck else "none (it would start over from epoch 0)"))
    c1, c2 = st.columns(2)
    suggested = cfg0.epochs if ck_epoch < cfg0.epochs else min(5000, cfg0.epochs + 10)
    epochs = c1.number_input("Train up to epoch", 1, 5000, suggested, 1, key=f"resume_epochs_{run.name}",
                             help="Raise it to continue a completed run.")
    devices = ["auto", "cpu", "cuda"]
    device = c2.selectbox("Device", devices, index=devices.index(cfg0.device) if cfg0.device in devices else 0,
                          key=f"resume_device_{run.name}")
    cfg = None
    try:
        cfg = with_changes(cfg0, {"epochs": int(epochs), "device": device}, "resume")
        check_device(cfg.device)
    except ConfigError as e:
        cfg = None
        st.error(f"Cannot resume: **{e.field}**: {str(e).split(': ', 1)[-1]}")
    if cfg is not None and epochs <= ck_epoch:
        st.warning(f"The latest checkpoint is already at epoch {ck_epoch}: raise the epochs to continue.")
        cfg = None
    reason = busy_reason()
    c_resume, c_delete = st.columns([3, 1])
    if c_resume.button("Resume training", type="primary", key="resume", disabled=cfg is None or reason is not None,
                       icon=":material/resume:", help=reason) and cfg is not None:
        start(cfg, resume=str(run.path))
    with c_delete.popover("Delete this run", icon=":material/delete:"):
        st.caption(f"Deletes {run.name} with its checkpoints and grids. There is no undo.")
        if st.button(f"Delete {run.name}", key="delete_run", type="primary"):
            try:
                delete_run(run, me)
                st.rerun()
            except (NotAllowed, ValueError) as e:
                st.error(str(e), icon=":material/block:")


def live_edit_form(snap: dict) -> None:
    """Every field a running job may change (learning rates, n_critic, penalty weights, epochs...),
    drawn from the config's metadata; the change takes effect at the next epoch boundary and is
    recorded in the run's edits.jsonl."""
    cfg = snap["config"]
    with st.form(f"live_edit_{snap['id']}", border=False):
        values = live_edit_widgets(cfg)
        submitted = st.form_submit_button("Apply at the next epoch", key="edit_apply")
    if submitted:
        changes = {k: v for k, v in values.items() if v != cfg[k]}
        try:
            if changes:
                jm.edit(snap["id"], me, **changes)
        except (ConfigError, RuntimeError, NotAllowed) as e:
            st.error(str(e), icon=":material/error:")
    pending = jm.snapshot(snap["id"], series=False)["pending_edits"]
    if pending:
        st.caption("Waiting for the next epoch: " + ", ".join(f"{k} = {v}" for k, v in pending.items()))
    edits = Run(Path(snap["run"])).edits() if snap["run"] else []
    if edits:
        st.caption("Changes so far (dashed lines on the charts): " + "; ".join(edit_text(e) for e in edits))


def job_view(was_active: bool, was_waiting: bool = False) -> tuple[list, list, Run | None, tuple | None]:
    """Status, progress and Pause/Resume/Stop of this server's current job; its rows, its
    running means, its run and the version of that one snapshot (the shared figures' key: a
    version read apart from the rows could name figures built from other rows)."""
    snap = jm.current(me.name)
    if (was_active and not snap["active"]) or (was_waiting and snap["state"] != "waiting"):
        st.rerun()  # the job ended (or left the queue): redraw the page once, at its new refresh rate
    run_txt = f"run `{snap['run_name']}`" if snap["run_name"] else "no run folder yet"
    st.markdown(f"**Job {snap['id']}**: {snap['model']} on {snap['dataset']}, {run_txt}. "
                f"State: **{snap['state']}**")
    if snap["active"]:
        epoch_txt = f"epoch {snap['epoch']}/{snap['epochs']}"
        if snap["steps_per_epoch"]:
            epoch_txt += f", step {snap['step']}/{snap['steps_per_epoch']}"
        st.progress(snap["fraction"], text=f"{epoch_txt} · elapsed {duration_text(snap['elapsed_s'])}"
                    f" · ETA {duration_text(snap['eta_s'])}")
        if snap["state"] == "waiting":
            st.caption(f"Waiting in the queue: number {snap['position']}. It starts when a slot is free.")
            st.button("Cancel", key="cancel_job", icon=":material/cancel:", on_click=jm.cancel, args=(snap["id"], me))
            return [], [], None, None
        if snap["state"] == "queued":
            fraction, text = snap.get("loading") or (0.0, "")
            st.progress(fraction, text=text) if text else st.caption("Loading the data and building the models...")
        elif snap["state"] == "pausing":
            st.caption("Pausing at the end of the current step...")
        b1, b2, b3, _ = st.columns([1, 1, 1, 5])
        b1.button("Pause", key="pause", icon=":material/pause:", on_click=jm.pause, args=(snap["id"], me),
                  disabled=snap["state"] != "running")
        b2.button("Resume", key="unpause", icon=":material/play_arrow:", on_click=jm.resume,
                  args=(snap["id"], me), disabled=snap["state"] not in ("pausing", "paused"))
        b3.button("Stop", key="stop", icon=":material/stop:", on_click=jm.stop, args=(snap["id"], me),
                  disabled=snap["state"] == "stopping",
                  help="Stops after the current step; the last finished epoch is checkpointed.")
        with st.expander("Change while training", icon=":material/tune:"):
            live_edit_form(snap)
    done = int(snap["rows"][-1]["epoch"]) if snap["rows"] else 0  # last finished epoch
    if snap["state"] == "completed":
        st.success(f"Job {snap['id']} completed: {done} epochs. Look at its grids on **Samples**, "
                   "or draw new images on **Generate**.", icon=":material/check_circle:")
    elif snap["state"] == "stopped":
        st.info(f"Job {snap['id']} stopped after epoch {done}; resume it from the last checkpoint "
                "with **Resume a run** above.")
    if snap["state"] in ("failed", "diverged"):
        st.error(f"Job {snap['id']} {snap['state']}: {snap['error']}", icon=":material/error:")
        if snap.get("traceback"):
            with st.expander("Traceback"):
                st.code(snap["traceback"], language="python")
    if not snap["run"]:
        return [], [], None, None
    return charts.history(snap), snap.get("stream") or [], Run(Path(snap["run"])), snap["version"]


def disk_view(run: Run, was_active: bool) -> tuple[list, list, Run]:
    """A run from the runs folder (e.g. one the CLI trains in another process), read from disk."""
    status = run.status()
    state = status.get("state", "unknown")
    if was_active and state not in LIVE_STATES:
        st.rerun()
    try:
        cfg = run.config()
        what = f"{cfg.model} on {cfg.dataset}"
    except Exception:  # noqa: BLE001 - a hand-edited config.json still shows its metrics
        what = "config unreadable"
    st.markdown(f"**Run `{run.name}`**: {what}, epoch {status.get('epoch', '?')}/{status.get('epochs', '?')}. "
                f"Run state: **{state}**")
    if state in LIVE_STATES and status.get("epochs"):
        st.progress(min(1.0, (status.get("epoch") or 0) / status["epochs"]),
                    text="training in another process (e.g. the CLI); refreshed every few seconds")
    if status.get("error"):
        st.error(f"{run.name} {state}: {status['error']}", icon=":material/error:")
    return run.metrics(), run.stream(), run


def live(view: str, was_active: bool, was_waiting: bool = False) -> None:
    if view == JOB:
        rows, stream, run, version = job_view(was_active, was_waiting)
    else:
        rows, stream, run = disk_view(Run(pickers.runs_root() / view), was_active)
        version = None  # a disk view's figures are keyed by its files' sizes and mtimes
    if run is None:
        return
    evaluate_view.alerts(run, rows)
    # built once per change of the run and shared by every session watching it
    figs = live_figures.build(run, rows, stream, version)
    ctx = figs["ctx"]
    if ctx.parents:
        st.caption("Forked from " + " ← ".join(f"`{name}` at epoch {branch}" for name, branch, _ in ctx.parents)
                   + ": the parent's curves are dotted, the fork point and every edit a dashed line.")
    c_loss, c_fid, c_grid = st.columns(3)
    with c_loss:
        if rows or stream:
            epoch_view.chart(figs["loss"], "loss_chart", run, ready=True)
            epoch_view.chart(figs["disc"], "disc_chart", run, ready=True)
            if stream and not rows:
                st.caption("Thin lines: running means, about twice a second; each finished epoch adds a point.")
        else:
            st.caption("The curves start with the first training steps.")
    with c_fid:
        if figs["fid"] is not None:
            epoch_view.chart(figs["fid"], "fid_chart", run, ready=True)
            st.caption(f"Thin line: FID at each evaluation; dashed: its bias-corrected EMA (weight "
                       f"{charts.SMOOTHING:g}); band: ± 2 bootstrap std (about 95 %).")
            if figs["kid"] is not None:
                epoch_view.chart(figs["kid"], "kid_chart", run, ready=True)
        elif rows:
            st.caption(eval_hint(run))
    with c_grid:
        grid = charts.newest_grid(run)
        if grid is not None:
            path, caption = grid
            st.image(live_figures.grid_png(path), caption=caption, output_format="PNG")
    with st.container(border=True):
        epoch_view.panel(run)
    record = evaluate_view.latest_record(run)
    evaluate_view.tiles(rows, evaluate_view.num_classes_of(record))
    evaluate_view.per_class(record, key="per_class_chart")


def eval_hint(run: Run) -> str:
    try:
        every = run.config().eval_every
    except Exception:  # noqa: BLE001
        return "No evaluation yet."
    if not every:
        return "Live evaluation is off for this run (eval every = 0): compute metrics on **Evaluate**."
    return f"FID, KID and the other metrics appear after the first evaluation (every {every} epochs and at the end)."


def watch_options() -> tuple[list[str], dict[str, str]]:
    """This server's current job first (it follows the job from its start), then the runs on disk."""
    snap = jm.current(me.name)
    labels: dict[str, str] = {}
    if snap is not None:
        # No state or run name here: the select box is outside the live fragment, so they would go stale.
        labels[JOB] = "Your newest training job" if shared else "This server's training job (follows the newest one)"
    job_run = snap["run_name"] if snap else None
    for r in reversed(pickers.list_runs()):
        if r.name != job_run:
            labels[r.name] = f"{r.name} ({r.status().get('state', 'unknown')})"
    return list(labels), labels


def live_view() -> None:
    options, labels = watch_options()
    if not options:
        st.caption("No job has run in this server process yet, and the runs folder is empty. Start one on "
                   "**New run**.")
        return
    if st.session_state.get(WATCH) not in options:
        st.session_state[WATCH] = options[0]
    view = st.selectbox("Run to watch", options, key=WATCH, format_func=lambda o: labels.get(o, o),
                        help="This server's current job, or any run in the runs folder (runs the CLI trains in "
                             "another process refresh every few seconds).")
    if view == JOB:
        current = jm.current(me.name)
        active = bool(current and current["active"])
        waiting = bool(current and current["state"] == "waiting")
        every = WAIT_REFRESH_S if waiting else REFRESH_S
    else:
        active = Run(pickers.runs_root() / view).status().get("state") in LIVE_STATES
        every, waiting = DISK_REFRESH_S, False
    st.fragment(live, run_every=every if active else None)(view, active, waiting)


defaults = train_defaults()  # a run cloned from Compare runs, or the last preset; before the mode control
_busy = busy_reason() is not None
# A default only while the session has no mode yet: a clone or a start sets it via the session
# state, and a default beside that makes Streamlit warn (issue 11).
mode = st.segmented_control("Mode", MODES, default=None if MODE in st.session_state else LIVE if _busy else "New run",
                            key=MODE,
                            label_visibility="collapsed", persist_state="session") or "New run"
if shared:
    with st.expander("Queue", icon=":material/queue:", expanded=mode == LIVE):
        st.fragment(queue_view.panel, run_every=WAIT_REFRESH_S if jm.runner.active() or jm.queue() else None)(jm, me)
if mode == LIVE:
    live_view()
else:
    st.fragment(job_banner, run_every=JOB_POLL_S if _busy else None)(_busy)
    {"New run": lambda: new_run_form(defaults), "Resume a run": resume_form, "Fork a run": fork_form}[mode]()

"""`python -m ganlib train`: a new run (from the defaults, `--preset NAME` or `--config FILE`,
with field flags on top), or `--resume RUN` to continue one.

stdout gets only the run folder, at the end; the progress bar and one line per epoch go to
stderr. Ctrl-C asks the engine to stop after the current step (it saves the last good epoch);
a second Ctrl-C quits at once.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any, Optional

from ganlib.cli.commands import COMMANDS, FAILED, INTERRUPTED, OK, CLIError, Command, FractionBar, eprint, one_line
from ganlib.cli.flags import add_config_flags, add_runs_dir, config_values, flag, unknown_config_flag
from ganlib.data import READS_FILES, DatasetUnavailable
from ganlib.engine import distributed
from ganlib.engine.callbacks import Callbacks
from ganlib.engine.training import train
from ganlib.interchange.config_files import load_config_file
from ganlib.store.config import ConfigError, TrainConfig, changeable, with_changes
from ganlib.store.data_shape import suggested_shape
from ganlib.store.presets import PRESETS, apply_preset, preset_values
from ganlib.store.run_folder import LIVE_STATES, Run, find_run

try:
    from tqdm import tqdm
except ImportError:  # tqdm is in requirements.txt; without it there is just no bar
    tqdm = None

def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train", allow_abbrev=False, help="train a new run, or continue one with --resume",
        description="Train a GAN. Prints the run folder on stdout at the end; progress and one line "
                    "per epoch go to stderr. Ctrl-C stops after the current step, saves the last good "
                    "epoch as a checkpoint and exits with 130 (Ctrl-C twice quits at once).",
        epilog="--resume RUN continues RUN (a folder or a run name) from its latest checkpoint up to "
               "--epochs epochs in total (default: the run's own epoch count). With --resume only "
               f"{', '.join(flag(n) for n in changeable('resume'))} may change; the other config flags must "
               "be left out or equal the run's values, since the checkpoint's models, data and "
               "optimiser state were built from them.")
    p.add_argument("--resume", metavar="RUN", help="continue this run (a run folder or a run name under --runs-dir)")
    add_runs_dir(p)
    p.add_argument("--config", metavar="FILE",
                   help="start from this config (.json, .yaml or .yml, e.g. from the Export page); "
                        "field flags given too override it")
    p.add_argument("--preset", metavar="NAME",
                   help=f"start from a named config ({', '.join(PRESETS.names())}); field flags given too "
                        "override it. recommended is the default; seed000 and seed004 are those seeds' "
                        "loops as written, dcgan-seed001 seed 001's conv GAN, wgan-gp a WGAN-GP DCGAN")
    p.add_argument("--no-progress", "--no_progress", action="store_true",
                   help="no progress bar (the per-epoch lines are still printed)")
    add_config_flags(p)
    return p


def done_epochs(run: Run) -> int:
    """The epoch a resume starts from: that of the latest checkpoint (the engine drops later rows)."""
    ck = run.checkpoints()
    return ck[-1][0] if ck else 0


def resume_config(run: Run, given: dict[str, str]) -> TrainConfig:
    """The run's config with the flags given: those a resume may change (the `resume` role of
    the config fields) may differ, any other must equal the run's value (so a script may repeat
    its flags)."""
    return with_changes(run.config(), given, "resume")


class Interrupt:
    """Turns the first Ctrl-C into a polite stop request (the engine then saves its last good
    epoch); a second Ctrl-C raises KeyboardInterrupt as usual."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True  # no printing here: the handler may run inside a tqdm update

    def install(self) -> None:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: no signal handling, Ctrl-C is not ours to catch
            self.previous = None

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def epoch_line(row: dict[str, float], epochs: int) -> str:
    r = {k: row.get(k, float("nan")) for k in ("d_loss", "g_loss", "d_real", "d_fake", "images_per_sec",
                                               "epoch_time_s")}
    return (f"epoch {int(row['epoch']):>{len(str(epochs))}}/{epochs}  d_loss {r['d_loss']:.4f}  "
            f"g_loss {r['g_loss']:.4f}  D(x) {r['d_real']:.3f}  D(G(z)) {r['d_fake']:.3f}  "
            f"{r['images_per_sec']:,.0f} img/s  {r['epoch_time_s']:.1f}s")


class _AlreadyDone(Exception):
    def __init__(self, run: Run, done: int, epochs: int):
        super().__init__(f"run {run.name} already has {done} of {epochs} epochs; "
                         f"pass --epochs above {done} to train further")
        self.run = run


def _config(args: argparse.Namespace) -> tuple[TrainConfig, Optional[Run]]:
    """The config to train and the run to resume (None for a new run); a resume that has
    nothing left to do raises _AlreadyDone."""
    given = config_values(args)
    if args.resume and (args.config or args.preset):
        which = "--config" if args.config else "--preset"
        raise CLIError(f"{which} starts a new run; --resume continues one with its own config: use one")
    if args.config and args.preset:
        raise CLIError("--config and --preset both choose the starting config: use one")
    if args.preset:
        return apply_preset(args.preset, **given, **data_shaped(args, preset_values(args.preset), given)), None
    if args.config:
        return TrainConfig.from_dict({**load_config_file(args.config).to_dict(), **given}), None
    if not args.resume:
        return TrainConfig.from_dict({**given, **data_shaped(args, TrainConfig().to_dict(), given)}), None
    resume = find_run(args.resume, args.runs_dir)
    st = resume.status()
    if st.get("state") in LIVE_STATES:
        raise CLIError(f"run {resume.name} is {st['state']} in process {st.get('pid')}; stop it before resuming")
    cfg = resume_config(resume, given)
    done = done_epochs(resume)
    if cfg.epochs < done:
        raise ConfigError("epochs", f"run {resume.name} already has {done} epochs; pass --epochs {done} or more")
    if cfg.epochs == done and st.get("state") == "completed":
        raise _AlreadyDone(resume, done, cfg.epochs)
    eprint(f"resuming {resume.path} from epoch {done} up to {cfg.epochs} epochs")
    return cfg, resume


def data_shaped(args: argparse.Namespace, base: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """A new run on image files (a folder, a zip, emoji): the image_size and channels the flags
    leave out, from the data (what it suggests, at a size the model takes). The one line that
    says so is kept in `args.data_line` and printed once the run exists (a refused run prints
    only its error)."""
    values = {**base, **given}
    if values.get("dataset") not in READS_FILES or ("image_size" in given and "channels" in given):
        return {}
    try:
        shape = suggested_shape(values)
    except (DatasetUnavailable, ValueError):
        return {}  # the run's own data loading says what is wrong, in its words
    if shape is None:
        return {}
    size, channels, why = shape
    out = {k: v for k, v in (("image_size", size), ("channels", channels)) if k not in given}
    which = "both from the data" if len(out) == 2 else f"{next(iter(out))} from the data"
    args.data_line = (f"data: training at image_size {given.get('image_size', size)}, channels "
                      f"{given.get('channels', channels)} ({which}: {why}; --image-size and --channels choose)")
    return out


class _Console:
    """The progress bar and the per-epoch lines on stderr, and the Ctrl-C handler, as the
    engine's callbacks."""

    def __init__(self, cfg: TrainConfig, resume: Optional[Run], progress: bool, data_line: str = ""):
        self.cfg, self.resume, self.progress = cfg, resume, progress and tqdm is not None
        self.bar = None
        self.data_bar = FractionBar(self.progress)  # a folder's first load: packing its files
        self.data_line = data_line  # where the image size and channels came from
        self.interrupt = Interrupt()
        self.announced = False

    def callbacks(self) -> Callbacks:
        return Callbacks(on_start=self.on_start, on_progress=self.on_progress, on_epoch=self.on_epoch,
                         should_stop=self.should_stop, on_data=self.data_bar)

    def on_start(self, run: Run) -> None:
        self.data_bar.close()
        if self.resume is None:
            eprint(f"run folder: {run.path}")
        if self.data_line:
            eprint(self.data_line)
        note = run.status().get("data_note")
        if note and "skipped" in note:  # said here, not only in status.json
            eprint(f"data: {note}")
        self.interrupt.install()  # only now: a Ctrl-C while loading data simply aborts

    def on_progress(self, p) -> None:
        if not self.progress:
            return
        done = (p.epoch - 1) * p.steps_per_epoch + p.step
        if self.bar is None:
            self.bar = tqdm(total=p.epochs * p.steps_per_epoch, initial=(p.epoch - 1) * p.steps_per_epoch,
                            unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)
        self.bar.set_description(f"epoch {p.epoch}/{p.epochs}", refresh=False)
        self.bar.update(done - self.bar.n)

    def say(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)  # clears the bar, writes, redraws it
        else:
            eprint(line)

    def on_epoch(self, row: dict[str, float]) -> None:
        self.say(epoch_line(row, self.cfg.epochs))

    def should_stop(self) -> bool:
        if self.interrupt.requested and not self.announced:
            self.announced = True
            self.say("stopping: the last finished epoch, if any, is saved as a checkpoint (Ctrl-C again quits at once)")
        return self.interrupt.requested

    def close(self) -> None:
        self.data_bar.close()
        self.interrupt.restore()
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    try:
        cfg, resume = _config(args)
    except _AlreadyDone as done:
        eprint(str(done))
        print(done.run.path)
        return OK
    console = _Console(cfg, resume, progress=not args.no_progress, data_line=getattr(args, "data_line", ""))
    t0 = time.perf_counter()
    try:
        result = train(cfg, runs_dir=args.runs_dir, resume=resume.path if resume else None,
                       callbacks=console.callbacks())
    finally:
        console.close()
    if distributed.env_rank() != 0:  # another rank of a torchrun job: rank 0 reports the run
        if result.error:
            eprint(f"error: rank {distributed.env_rank()}: {one_line(result.error)}")
        return OK if result.state == "completed" else FAILED

    out, dt = result.run, time.perf_counter() - t0
    if result.state == "completed":
        eprint(f"completed {result.epoch}/{cfg.epochs} epochs in {dt:.1f}s")
        print(out.path)
        return OK
    if result.state == "stopped":
        ck = out.latest_checkpoint()
        eprint(f"stopped at epoch {result.epoch}/{cfg.epochs}; "
               + (f"last checkpoint {ck}; " if ck else "no epoch finished, no checkpoint; ")
               + f"continue with: python -m ganlib train --resume {out.path}")
        print(out.path)
        return INTERRUPTED if console.interrupt.requested else FAILED
    # diverged or failed: the engine kept the last good checkpoint and the traceback in status.json
    eprint(f"error: run {out.name} {result.state} at epoch {result.epoch}: {one_line(result.error or '')}")
    if result.state == "failed":
        eprint(f"the traceback is in {out.path / 'status.json'}")
    print(out.path)
    return FAILED


COMMANDS.add("train", Command(add_parser, run, unknown_flag=unknown_config_flag))

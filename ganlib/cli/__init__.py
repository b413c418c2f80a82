"""Layer 7, cli: the command line, one small file per subcommand, each registered the same way.
No library logic lives here: a subcommand parses flags, calls the layers below (every one of
them may be imported) and prints.

The command line: `python -m ganlib train | sample | runs | fid | metrics`.

    python -m ganlib train --dataset mnist5k --model mlp_gan --epochs 5
    python -m ganlib train --resume 00003-mlp_gan-mnist5k --epochs 20
    python -m ganlib sample 00003-mlp_gan-mnist5k --n 64 --out grid.png
    python -m ganlib runs
    python -m ganlib fid real_images/ fake_images/             # pytorch-fid's command line
    python -m ganlib fid --save-stats real_images/ real.npz    # pytorch-fid's mu/sigma file
    python -m ganlib metrics 00003-mlp_gan-mnist5k --json      # FID, KID, IS, precision/recall, ...

Every TrainConfig field is a `train` flag, generated from the dataclass, so a new field needs no
CLI change; values go through `TrainConfig.from_dict`, the one place they are checked.
stdout carries only results (the run folder, the output file, the runs table) so that scripts
can capture them; progress, per-epoch summaries and errors go to stderr. A bad argument is one
line `error: ...` on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
import typing
from pathlib import Path
from typing import Any, Optional, Sequence

from ganlib import __version__
from ganlib.store.config import ConfigError, TrainConfig, field_specs
from ganlib.data import DatasetUnavailable
from ganlib.store.run_folder import LIVE_STATES, Run, find_run, list_runs, runs_dir

# Exit codes.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130

# Fields that `train --resume` may change: they steer the loop, not the models, the data or the
# optimiser state stored in the checkpoint. Any other field given with --resume must equal the
# run's value (so a script may repeat its flags), else it is an error.
RESUME_FIELDS = ("epochs", "device", "sample_every", "checkpoint_every", "precision", "channels_last", "compile")

# Registry names used as `choices` in the field metadata.
_REGISTRIES = {"datasets": ("ganlib.data", "DATASETS"), "models": ("ganlib.models", "MODELS"),
               "losses": ("ganlib.losses", "LOSSES")}


RUNS_DIR_HELP = "folder holding the runs (default: $GANLIB_RUNS_DIR or the repo's checkpoints/)"


class CLIError(Exception):
    """A user error found by the CLI itself; printed as `error: <message>`, exit code 2."""


# ---- argument parser ----------------------------------------------------------------------------
def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _choices(spec: Any) -> Optional[list[str]]:
    if isinstance(spec, str) and spec in _REGISTRIES:
        import importlib

        module, attr = _REGISTRIES[spec]
        return list(getattr(importlib.import_module(module), attr).names())
    if isinstance(spec, (list, tuple)):
        return [str(c) for c in spec]
    return None


def _field_help(f: dataclasses.Field) -> str:
    meta = f.metadata
    text = meta.get("help", "")
    choices = _choices(meta.get("choices")) if isinstance(meta.get("choices"), str) else None
    if choices:  # registry names; a list of choices is already spelled out in the help
        text += f" One of: {', '.join(choices)}."
    default = "empty" if f.default is None else ("''" if f.default == "" else f.default)
    text += f" (default: {default})"
    return text.replace("%", "%%")  # argparse formats help with %


def _metavar(f: dataclasses.Field) -> str:
    hint = typing.get_type_hints(TrainConfig)[f.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if args else hint
    if base in (int, float):
        return "N" if base is int else "X"
    return {"dataset": "NAME", "model": "NAME", "loss": "NAME", "data_path": "PATH", "device": "DEV"}.get(f.name, "VALUE")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One `--field-name VALUE` flag per TrainConfig field, plus a hidden `--field_name` twin.
    Values stay strings (default: absent) and are coerced and checked by TrainConfig.from_dict."""
    group = parser.add_argument_group(
        "training config (every TrainConfig field; --batch_size works as well as --batch-size)")
    for f in field_specs():
        group.add_argument(flag(f.name), dest=f"cfg_{f.name}", metavar=_metavar(f),
                           default=argparse.SUPPRESS, help=_field_help(f))
        if "_" in f.name:
            group.add_argument("--" + f.name, dest=f"cfg_{f.name}", default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ganlib", allow_abbrev=False,
        description="GAN Workbench from the command line: train GANs, sample them, list runs, "
                    "compute FID between image folders and evaluate runs.",
        epilog="Runs live under --runs-dir (default: $GANLIB_RUNS_DIR or the repo's checkpoints/). "
               "Exit codes: 0 done, 1 run failed or diverged, 2 bad arguments, 130 stopped by Ctrl-C.")
    parser.add_argument("--version", action="version", version=f"ganlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    runs_dir_help = RUNS_DIR_HELP

    # train
    tr = sub.add_parser(
        "train", allow_abbrev=False, help="train a new run, or continue one with --resume",
        description="Train a GAN. Prints the run folder on stdout at the end; progress and one line "
                    "per epoch go to stderr. Ctrl-C stops after the current step, saves the last good "
                    "epoch as a checkpoint and exits with 130 (Ctrl-C twice quits at once).",
        epilog="--resume RUN continues RUN (a folder or a run name) from its latest checkpoint up to "
               "--epochs epochs in total (default: the run's own epoch count). With --resume only "
               f"{', '.join(flag(n) for n in RESUME_FIELDS)} may change; the other config flags must "
               "be left out or equal the run's values, since the checkpoint's models, data and "
               "optimiser state were built from them.")
    tr.add_argument("--resume", metavar="RUN", help="continue this run (a run folder or a run name under --runs-dir)")
    tr.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    tr.add_argument("--config", metavar="FILE",
                    help="start from this config (.json, .yaml or .yml, e.g. from the Export page); "
                         "field flags given too override it")
    tr.add_argument("--no-progress", "--no_progress", action="store_true",
                    help="no progress bar (the per-epoch lines are still printed)")
    add_config_flags(tr)
    tr.set_defaults(func=cmd_train)

    # sample
    sa = sub.add_parser(
        "sample", allow_abbrev=False, help="draw images from a trained run's generator",
        description="Draw N images from a run's generator and write them as a PNG grid or as an .npz "
                    "holding `images` (uint8, N x H x W for grayscale, else N x C x H x W) and `labels` "
                    "(-1 for unconditional runs). Prints the output path on stdout.")
    sa.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    sa.add_argument("--out", "-o", required=True, metavar="FILE", help="output file: .png or .npz")
    sa.add_argument("--n", type=int, default=64, metavar="N", help="number of images (default: 64)")
    sa.add_argument("--label", type=int, metavar="K",
                    help="class for every image (conditional runs only; default: cycle through the classes)")
    sa.add_argument("--seed", type=int, metavar="S",
                    help="noise seed; the same seed draws the same images (default: random, printed)")
    sa.add_argument("--checkpoint", metavar="FILE",
                    help="checkpoint file, or its name in the run's ckpt/ (default: the latest)")
    sa.add_argument("--device", default="cpu", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: cpu)")
    sa.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    sa.set_defaults(func=cmd_sample)

    # runs
    ru = sub.add_parser("runs", allow_abbrev=False, help="list the runs as a table",
                        description="List the runs: name, status, model, dataset, epochs done, last losses.")
    ru.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    ru.set_defaults(func=cmd_runs)

    # fork
    fk = sub.add_parser(
        "fork", allow_abbrev=False, help="branch a new run from a checkpoint with edited hyperparameters",
        description="Create a new run that starts from RUN's checkpoint with its full state (models, "
                    "optimisers, RNG, epoch, metric history) and the config flags given here changed. "
                    "Architecture, data and loss stay the parent's. Prints the fork's folder; train it with "
                    "`python -m ganlib train --resume FOLDER`.")
    fk.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    fk.add_argument("--checkpoint", metavar="NAME", help="e.g. epoch_0010.pt or best.pt (default: the latest)")
    fk.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=runs_dir_help)
    add_config_flags(fk)
    fk.set_defaults(func=cmd_fork)

    add_fid_parser(sub)
    add_metrics_parser(sub)
    from ganlib.interchange import export
    from ganlib.explore import timelapse

    export.add_cli(sub)  # export, import, config, tensorboard
    timelapse.add_cli(sub)
    # Further subcommands are one add_parser + one cmd_* function each.
    return parser


def config_values(args: argparse.Namespace) -> dict[str, str]:
    """The config fields given on the command line, as strings, in field order."""
    return {f.name: getattr(args, f"cfg_{f.name}") for f in field_specs() if hasattr(args, f"cfg_{f.name}")}


def unknown_flag_error(command: str, extras: list[str]) -> Exception:
    """An argument the parser did not know: for `train`, an unknown field flag is named as a
    ConfigError would name it; anything else is a plain one-line error."""
    first = next((a for a in extras if a.startswith("-")), extras[0])
    if command == "train" and first.startswith("--"):
        import difflib

        name = first[2:].split("=", 1)[0].replace("-", "_")
        fields = [f.name for f in field_specs()]
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {flag(close[0])}?" if close else f"fields are {', '.join(fields)}"
        return ConfigError(name, f"not a config field or train option; {hint}")
    return CLIError(f"unrecognized argument {first!r} for {command} (see python -m ganlib {command} --help)")


# ---- train ---------------------------------------------------------------------------------------
def _done_epochs(run: Run) -> int:
    """The epoch a resume starts from: that of the latest checkpoint (the engine drops later rows)."""
    ck = run.checkpoints()
    return ck[-1][0] if ck else 0


def resume_config(run: Run, given: dict[str, str]) -> TrainConfig:
    cfg = run.config()
    new = cfg.replace(**given) if given else cfg
    for name in given:
        if name not in RESUME_FIELDS and getattr(new, name) != getattr(cfg, name):
            raise ConfigError(name, f"cannot change when resuming (the run has {getattr(cfg, name)!r}); "
                                    f"with --resume only {', '.join(flag(n) for n in RESUME_FIELDS)} may change")
    return new


class _Interrupt:
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


def _fmt_epoch(row: dict[str, float], epochs: int) -> str:
    r = {k: row.get(k, float("nan")) for k in ("d_loss", "g_loss", "d_real", "d_fake", "images_per_sec",
                                               "epoch_time_s")}
    return (f"epoch {int(row['epoch']):>{len(str(epochs))}}/{epochs}  d_loss {r['d_loss']:.4f}  "
            f"g_loss {r['g_loss']:.4f}  D(x) {r['d_real']:.3f}  D(G(z)) {r['d_fake']:.3f}  "
            f"{r['images_per_sec']:,.0f} img/s  {r['epoch_time_s']:.1f}s")


def cmd_train(args: argparse.Namespace) -> int:
    from ganlib.engine.training import Callbacks, train

    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in requirements.txt; without it there is just no bar
        tqdm = None

    given = config_values(args)
    resume: Optional[Run] = None
    if args.resume and args.config:
        raise CLIError("--config starts a new run; --resume continues one with its own config: use one")
    if args.resume:
        resume = find_run(args.resume, args.runs_dir)
        st = resume.status()
        if st.get("state") in LIVE_STATES:
            raise CLIError(f"run {resume.name} is {st['state']} in process {st.get('pid')}; stop it before resuming")
        cfg = resume_config(resume, given)
        done = _done_epochs(resume)
        if cfg.epochs < done:
            raise ConfigError("epochs", f"run {resume.name} already has {done} epochs; pass --epochs {done} or more")
        if cfg.epochs == done and st.get("state") == "completed":
            eprint(f"run {resume.name} already has {done} of {cfg.epochs} epochs; "
                   f"pass --epochs above {done} to train further")
            print(resume.path)
            return OK
        eprint(f"resuming {resume.path} from epoch {done} up to {cfg.epochs} epochs")
    elif args.config:
        from ganlib.interchange.export import load_config_file

        cfg = TrainConfig.from_dict({**load_config_file(args.config).to_dict(), **given})
    else:
        cfg = TrainConfig.from_dict(given)

    bar = None
    interrupt = _Interrupt()
    announced = False

    def on_start(run: Run) -> None:
        if resume is None:
            eprint(f"run folder: {run.path}")
        interrupt.install()  # only now: a Ctrl-C while loading data simply aborts

    def on_progress(p) -> None:
        nonlocal bar
        if tqdm is None or args.no_progress:
            return
        done = (p.epoch - 1) * p.steps_per_epoch + p.step
        if bar is None:
            bar = tqdm(total=p.epochs * p.steps_per_epoch, initial=(p.epoch - 1) * p.steps_per_epoch,
                       unit="step", file=sys.stderr, dynamic_ncols=True, leave=False)
        bar.set_description(f"epoch {p.epoch}/{p.epochs}", refresh=False)
        bar.update(done - bar.n)

    def say(line: str) -> None:
        if bar is not None:
            bar.write(line, file=sys.stderr)  # clears the bar, writes, redraws it
        else:
            eprint(line)

    def on_epoch(row: dict[str, float]) -> None:
        say(_fmt_epoch(row, cfg.epochs))

    def should_stop() -> bool:
        nonlocal announced
        if interrupt.requested and not announced:
            announced = True
            say("stopping: the last finished epoch, if any, is saved as a checkpoint (Ctrl-C again quits at once)")
        return interrupt.requested

    t0 = time.perf_counter()
    try:
        result = train(cfg, runs_dir=args.runs_dir, resume=resume.path if resume else None,
                       callbacks=Callbacks(on_start=on_start, on_progress=on_progress, on_epoch=on_epoch,
                                           should_stop=should_stop))
    finally:
        interrupt.restore()
        if bar is not None:
            bar.close()

    run, dt = result.run, time.perf_counter() - t0
    if result.state == "completed":
        eprint(f"completed {result.epoch}/{cfg.epochs} epochs in {dt:.1f}s")
        print(run.path)
        return OK
    if result.state == "stopped":
        ck = run.latest_checkpoint()
        eprint(f"stopped at epoch {result.epoch}/{cfg.epochs}; "
               + (f"last checkpoint {ck}; " if ck else "no epoch finished, no checkpoint; ")
               + f"continue with: python -m ganlib train --resume {run.path}")
        print(run.path)
        return INTERRUPTED if interrupt.requested else FAILED
    # diverged or failed: the engine kept the last good checkpoint and the traceback in status.json
    eprint(f"error: run {run.name} {result.state} at epoch {result.epoch}: {one_line(result.error or '')}")
    if result.state == "failed":
        eprint(f"the traceback is in {run.path / 'status.json'}")
    print(run.path)
    return FAILED


# ---- sample --------------------------------------------------------------------------------------
def cmd_fork(args: argparse.Namespace) -> int:
    from ganlib.engine.forks import fork

    parent = find_run(args.run, args.runs_dir)
    checkpoint = None
    if args.checkpoint:
        checkpoint = Path(args.checkpoint) if Path(args.checkpoint).is_file() else parent.path / "ckpt" / args.checkpoint
    new = fork(parent, config_values(args), checkpoint=checkpoint, runs_dir=args.runs_dir)
    eprint(new.status().get("notes", [""])[0])
    print(new.path)
    return OK


def cmd_sample(args: argparse.Namespace) -> int:
    out = Path(args.out)
    kind = out.suffix.lower()
    if kind not in (".png", ".npz"):
        raise CLIError(f"--out must end in .png or .npz, got {args.out!r}")
    run = find_run(args.run, args.runs_dir)

    from ganlib.store.config import DEVICE_RE
    from ganlib.explore.sampling import generate
    from ganlib.core.devices import resolve_device

    if not DEVICE_RE.match(args.device):
        raise CLIError(f"--device must be auto, cpu, cuda or cuda:N, got {args.device!r}")
    device = str(resolve_device(args.device))

    seed = args.seed
    if seed is None:
        import numpy as np

        seed = int(np.random.SeedSequence().entropy % 2**31)
    samples = generate(run, args.n, seed=seed, labels=args.label, checkpoint=args.checkpoint, device=device)
    data = samples.png() if kind == ".png" else samples.npz()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if args.seed is None:
        eprint(f"seed {seed} (pass --seed {seed} to draw the same images again)")
    print(out)
    return OK


# ---- runs ----------------------------------------------------------------------------------------
RUN_COLUMNS = ("run", "status", "model", "dataset", "epoch", "d_loss", "g_loss")


def runs_table(rows: list[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any], col: str) -> str:
        if col == "epoch":
            return f"{row['epoch']}/{row['epochs'] if row.get('epochs') is not None else '?'}"
        v = row.get(col)
        if v is None or v == "":
            return "-"
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    table = [list(RUN_COLUMNS)] + [[cell(r, c) for c in RUN_COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(RUN_COLUMNS))]
    numeric = {"epoch", "d_loss", "g_loss"}
    lines = []
    for line in table:
        cells = [v.rjust(w) if c in numeric else v.ljust(w) for v, w, c in zip(line, widths, RUN_COLUMNS)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def cmd_runs(args: argparse.Namespace) -> int:
    runs = list_runs(args.runs_dir)
    if not runs:
        eprint(f"no runs in {runs_dir(args.runs_dir)}")
        return OK
    print(runs_table([r.summary() for r in runs]))
    return OK


# ---- fid ---------------------------------------------------------------------------------------
# Modes read as one gray channel; every other mode is converted to RGB (as pytorch-fid does with
# every image). Gray stays one channel so the digit classifier sees the exact pixel values; the
# Inception extractor repeats it over 3 channels, which is what PIL's convert("RGB") gives.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
INCEPTION_HINT = ("Offline, `--features digits` (the digit classifier shipped with ganlib) works for digit "
                  "images, but its values are not comparable with Inception FIDs.")


def add_fid_parser(sub: Any) -> None:
    fi = sub.add_parser(
        "fid", allow_abbrev=False,
        help="FID between two image folders or statistics files (pytorch-fid's command line)",
        description="Fréchet distance between two sets of images, like pytorch-fid's "
                    "`python -m pytorch_fid PATH1 PATH2`. Each PATH is a folder of images (subfolders "
                    "included, hidden files left out; any size and mode; files PIL cannot read are skipped "
                    "and counted on stderr) or an .npz holding `mu` and `sigma` (pytorch-fid's statistics "
                    "format, or a file written by --save-stats). Prints `FID: <value>` on stdout. "
                    "With --save-stats, the first PATH is a folder and the second the .npz to write "
                    "(`mu`, `sigma` and `n`).",
        epilog="The default --features inception is pytorch-fid's network (TensorFlow's 2015 FID Inception, "
               "2048-d pool3 features). It needs pytorch-fid's weights file pt_inception-2015-12-05-6726825d.pth "
               "(about 90 MB): pass --inception-weights FILE, set $GANLIB_INCEPTION_WEIGHTS, put it in torch "
               "hub's cache, or let it download there. " + INCEPTION_HINT + " FID depends on the number of "
               "images N (it is biased upward at small N, and below N = feature dim the covariance is "
               "singular): compare values only at equal N and extractor.")
    fi.add_argument("paths", nargs=2, metavar="PATH",
                    help="a folder of images, or an .npz with mu and sigma (with --save-stats: folder, then OUT.npz)")
    fi.add_argument("--features", "--extractor", default="inception", metavar="NAME",
                    help="feature extractor from the extractor registry: inception (default, as pytorch-fid) "
                         "or digits")
    fi.add_argument("--save-stats", "--save_stats", action="store_true",
                    help="write the first PATH's statistics to the second PATH (.npz) instead of computing FID")
    fi.add_argument("--batch-size", "--batch_size", type=int, default=50, metavar="B",
                    help="images read and passed to the extractor at a time; the extractor runs them in its "
                         "own forward batches (default: 50, as pytorch-fid)")
    fi.add_argument("--device", default="auto", metavar="DEV",
                    help="auto, cpu, cuda or cuda:N (default: auto, a GPU when there is one)")
    fi.add_argument("--inception-weights", "--inception_weights", default="", metavar="FILE",
                    help="path to pt_inception-2015-12-05-6726825d.pth (default: $GANLIB_INCEPTION_WEIGHTS, "
                         "then torch hub's cache, then a download)")
    fi.add_argument("--dims", type=int, metavar="N",
                    help="pytorch-fid's --dims: only the extractor's own feature size is available "
                         "(2048 for inception, 128 for digits); any other value is an error")
    fi.add_argument("--num-workers", "--num_workers", type=int, metavar="N",
                    help="threads decoding images (default: min(8, CPU count), as pytorch-fid's workers)")
    fi.set_defaults(func=cmd_fid)


def image_files(root: Path) -> list[Path]:
    """Every file under `root`, subfolders included, hidden files and folders left out, sorted."""
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def read_image(path: Path) -> Any:
    """uint8 (C, H, W) with C = 1 for gray modes and 3 otherwise; None when PIL cannot read it."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            a = np.asarray(im.convert("L" if im.mode in GRAY_MODES else "RGB"), dtype=np.uint8)
    except Exception:  # noqa: BLE001 - not an image, truncated, a decompression bomb: skipped and counted
        return None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def folder_stats(root: Path, extractor: Any, *, batch_size: int = 50, workers: int = 0) -> Any:
    """RunningStats of the extractor's features of every readable image under `root`, read and
    embedded `batch_size` images at a time (only one batch of full-size images in memory). Images
    of one batch are grouped by size and channels, so folders of mixed images need no resizing
    here: every extractor resizes its input itself. Unreadable files are counted on stderr."""
    import numpy as np
    import torch

    from ganlib.metrics.feature_stats import RunningStats

    files = image_files(root)
    if not files:
        raise CLIError(f"no images in {root}: the folder is empty")
    device = extractor.device
    stats = RunningStats(extractor.feature_dim, device)
    skipped: list[Path] = []
    bar = None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(files), unit="img", desc=root.name, file=sys.stderr, leave=False,
                       dynamic_ncols=True)
        except ImportError:
            bar = None
    pool = None
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers)
    try:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            arrays = list(pool.map(read_image, chunk)) if pool is not None else [read_image(f) for f in chunk]
            groups: dict[tuple[int, ...], list] = {}
            for f, a in zip(chunk, arrays):
                if a is None:
                    skipped.append(f)
                else:
                    groups.setdefault(a.shape, []).append(a)
            for group in groups.values():
                x = torch.from_numpy(np.stack(group)).to(device).float().div_(127.5).sub_(1.0)  # [-1, 1]
                stats.update(extractor.features(x))
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()
    why = (f"{len(skipped)} of {len(files)} file{'s' if len(files) != 1 else ''} skipped as not readable "
           f"images, e.g. {skipped[0].relative_to(root)}") if skipped else ""
    if stats.n < 2:
        raise CLIError(f"{'no' if stats.n == 0 else 'only one'} readable image in {root}"
                       + (f" ({why})" if why else "") + "; FID needs at least 2")
    if why:
        eprint(f"{root}: {why}")
    return stats


def path_kind(path: Path) -> str:
    """'folder' or 'npz'; anything else is a CLIError."""
    if path.is_dir():
        return "folder"
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return "npz"
        raise CLIError(f"{path} is a file but not an .npz: give a folder of images or an .npz of "
                       f"statistics holding mu and sigma")
    raise CLIError(f"no such folder or file: {path}")


def load_stats(path: Path) -> Any:
    """pytorch-fid's statistics file (`mu`, `sigma`; ganlib's also `n`) as RunningStats."""
    import numpy as np

    from ganlib.metrics.feature_stats import RunningStats

    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - not a zip, truncated, pickled objects
        raise CLIError(f"{path} is not a readable .npz ({type(e).__name__}: {error_message(e)}); expected "
                       f"pytorch-fid statistics holding mu and sigma") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise CLIError(f"{path} holds a single array, not pytorch-fid statistics (an .npz with mu and sigma)")
    with z:
        keys = list(z.files)
    missing = [k for k in ("mu", "sigma") if k not in keys]
    if missing:
        raise CLIError(f"{path} holds {', '.join(keys) or 'no arrays'}, not pytorch-fid statistics: "
                       f"no {' or '.join(missing)}")
    try:
        stats = RunningStats.from_npz(path)
        mu, sigma = stats.mean, stats.cov
    except Exception as e:  # noqa: BLE001 - wrong shapes or dtypes
        raise CLIError(f"{path}: bad statistics: {error_message(e)}") from None
    if not (bool(mu.isfinite().all()) and bool(sigma.isfinite().all())):
        raise CLIError(f"{path}: mu or sigma contain NaN or inf")
    return stats


def fid_extractor(name: str, device: str, weights: str = "") -> Any:
    """The registry's extractor `name` on `device` (one per process), or a CLIError saying how to
    get its weights."""
    from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable
    from ganlib.metrics.pipeline import get_extractor

    FEATURE_EXTRACTORS.get(name)  # an unknown name fails here with the list of known ones
    try:
        return get_extractor(name, device, weights if name == "inception" else "")
    except ExtractorUnavailable as e:
        msg = one_line(str(e)).replace("(or pass weights=<path>)", "(or pass --inception-weights FILE)")
        raise CLIError(msg + (" " + INCEPTION_HINT if name == "inception" else "")) from None


def _check_device(name: str) -> str:
    from ganlib.store.config import DEVICE_RE
    from ganlib.core.devices import resolve_device

    if not DEVICE_RE.match(name):
        raise CLIError(f"--device must be auto, cpu, cuda or cuda:N, got {name!r}")
    return str(resolve_device(name))


def cmd_fid(args: argparse.Namespace) -> int:
    import warnings

    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.num_workers is not None and args.num_workers < 0:
        raise CLIError(f"--num-workers must be 0 or more, got {args.num_workers}")
    workers = min(8, os.cpu_count() or 1) if args.num_workers is None else args.num_workers
    paths = [Path(p).expanduser() for p in args.paths]
    if args.inception_weights and args.features != "inception":
        eprint(f"note: --inception-weights is ignored with --features {args.features}")

    if args.save_stats:
        src, out = paths
        if not src.is_dir():
            path_kind(src)  # a missing path says so
            raise CLIError(f"--save-stats reads a folder of images (then writes the .npz named second); "
                           f"{src} is not a folder")
        if out.suffix.lower() != ".npz":
            raise CLIError(f"--save-stats writes an .npz: the second PATH must end in .npz, got {str(out)!r}")
        if out.exists():
            raise CLIError(f"{out} already exists; delete it or choose another name (pytorch-fid refuses too)")
        ext = fid_extractor(args.features, _check_device(args.device), args.inception_weights)
        _check_dims(args.dims, ext.feature_dim, args.features)
        stats = folder_stats(src, ext, batch_size=args.batch_size, workers=workers)
        _warn_sample_size(src, stats.n, ext.feature_dim)
        stats.to_npz(out)
        eprint(f"statistics of {stats.n} images from {src} ({args.features}, {ext.feature_dim}-d features)")
        print(out)
        return OK

    kinds = [path_kind(p) for p in paths]
    loaded = {i: load_stats(p) for i, (p, k) in enumerate(zip(paths, kinds)) if k == "npz"}
    dims = {i: s.dim for i, s in loaded.items()}
    if len(dims) == 2 and dims[0] != dims[1]:
        raise CLIError(f"{paths[0]} holds {dims[0]}-d statistics but {paths[1]} holds {dims[1]}-d: "
                       f"they were made with different feature extractors")
    stats = dict(loaded)
    if len(loaded) < 2:  # a folder is involved: features are needed
        ext = fid_extractor(args.features, _check_device(args.device), args.inception_weights)
        _check_dims(args.dims, ext.feature_dim, args.features)
        for i, d in dims.items():
            if d != ext.feature_dim:
                raise CLIError(f"{paths[i]} holds {d}-d statistics but --features {args.features} gives "
                               f"{ext.feature_dim}-d features: use the extractor the statistics were made with")
        for i in range(2):
            if i in stats:
                continue
            if i == 1 and kinds[0] == "folder" and paths[1].resolve() == paths[0].resolve():
                stats[1] = stats[0]  # the same folder twice: read it once
                continue
            stats[i] = folder_stats(paths[i], ext, batch_size=args.batch_size, workers=workers)
    elif args.dims is not None and args.dims != dims[0]:
        raise CLIError(f"--dims {args.dims}: the statistics files hold {dims[0]}-d features")
    warned = set()
    for i in range(2):  # a pytorch-fid file records no N (n = 0): nothing to warn about
        if stats[i].n and paths[i].resolve() not in warned:
            warned.add(paths[i].resolve())
            _warn_sample_size(paths[i], stats[i].n, stats[i].dim)

    from ganlib.metrics.frechet import frechet_distance

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fid = frechet_distance(stats[0].mean, stats[0].cov, stats[1].mean, stats[1].cov)
    for w in caught:
        eprint(f"warning: {one_line(str(w.message))}")
    print(f"FID: {fid}")
    return OK


def _check_dims(dims: Optional[int], feature_dim: int, name: str) -> None:
    if dims is not None and dims != feature_dim:
        raise CLIError(f"--dims {dims}: --features {name} gives {feature_dim}-d features only "
                       f"(pytorch-fid's other Inception blocks are not available)")


def _warn_sample_size(path: Path, n: int, dim: int) -> None:
    from ganlib.metrics.frechet import sample_size_warning

    msg = sample_size_warning(n, dim)
    if msg:
        eprint(f"warning: {path}: {msg}")


# ---- metrics -------------------------------------------------------------------------------------
def add_metrics_parser(sub: Any) -> None:
    me = sub.add_parser(
        "metrics", allow_abbrev=False,
        help="evaluate a run: FID, KID, IS, precision/recall, class coverage",
        description="Evaluate a run's generator against the run's own dataset, as the live evaluation "
                    "during training does: FID with a bootstrap std, KID with its std over subsets, the "
                    "Inception-style score, precision and recall, and, when the extractor classifies the "
                    "data's classes, classes covered, class KL and (conditional runs) label accuracy. Every "
                    "value is printed with its extractor and N. The real images' statistics are cached on "
                    "disk ($GANLIB_CACHE_DIR, default ~/.cache/ganlib/stats), shared with training.",
        epilog="Values depend on the extractor and on N: compare runs only at equal extractor and N.")
    me.add_argument("run", metavar="RUN", help="a run folder, or a run name under --runs-dir")
    me.add_argument("--checkpoint", metavar="FILE",
                    help="checkpoint file, or its name in the run's ckpt/, e.g. epoch_0010.pt (default: best.pt, "
                         "the lowest-FID state, when the run has one, else the latest)")
    me.add_argument("--extractor", "--features", metavar="NAME",
                    help="auto, digits or inception (default: the run's own setting; auto is digits for "
                         "grayscale runs, inception for colour, falling back to digits without its weights)")
    me.add_argument("--n", type=int, metavar="N",
                    help="generated samples and real images compared (default: the run's eval_samples, "
                         "capped at the dataset's size)")
    me.add_argument("--device", default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    me.add_argument("--inception-weights", "--inception_weights", default="", metavar="FILE",
                    help="path to pt_inception-2015-12-05-6726825d.pth (default: the run's setting, "
                         "$GANLIB_INCEPTION_WEIGHTS, torch hub's cache, a download)")
    me.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    me.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=RUNS_DIR_HELP)
    me.set_defaults(func=cmd_metrics)


def evaluate_run(run: Run, *, checkpoint: Optional[str] = None, extractor: Optional[str] = None,
                 n: Optional[int] = None, device: str = "cpu", inception_weights: str = "") -> dict[str, Any]:
    """One evaluation of a run's checkpoint through the Evaluate page's glue
    (`ganlib.explore.checkpoint_evaluation.evaluate_checkpoint`: the same data, real-reference cache and seed as
    the engine's live evaluation), as a flat dict for the table and the JSON.

    Defaults follow the run: its extractor setting and its eval_samples. An extractor asked for
    by name must be available (no silent fallback to the digit classifier); the run's own
    setting, like `auto`, falls back as the engine does, with a note."""
    from ganlib.explore.checkpoint_evaluation import evaluate_checkpoint  # heavy: only this command needs it
    from ganlib.models import MODELS  # noqa: I001 - kept beside its only use until the CLI split
    from ganlib.store.checkpoints import find_checkpoint  # kept beside its only use until the CLI split

    cfg = run.config()
    path = find_checkpoint(run, checkpoint, prefer_best=True)  # a missing checkpoint fails before anything loads
    weights = inception_weights or cfg.inception_weights
    if extractor is not None and extractor != "auto":
        fid_extractor(extractor, device, weights)  # unknown or unavailable: a one-line error now
    progress = None
    if sys.stderr.isatty():
        progress = lambda fraction, text: eprint(f"[{fraction:4.0%}] {text}")  # noqa: E731
    res = evaluate_checkpoint(run, path, extractor=extractor or cfg.extractor,
                              n=cfg.eval_samples if n is None else n, inception_weights=weights,
                              device=device, progress=progress)
    details = dict(res.details)
    notes = [one_line(details.pop("extractor_note"))] if details.get("extractor_note") else []
    class_names = details.get("class_names") or []
    return {"run": run.name, "run_path": str(run.path), "checkpoint": str(path),
            "epoch": details.get("epoch"), "model": cfg.model, "dataset": cfg.dataset, "device": str(device),
            **res.row, "real_n": res.row["eval_n"], "pr_n": details.get("pr_n"),
            "kid_subset": details.get("kid_subset"), "conditional": MODELS.get(cfg.model).conditional,
            "num_classes": len(class_names), "notes": notes, "warnings": [one_line(w) for w in res.warnings],
            "details": details}


def _finite(v: Any) -> Any:
    """NaN and inf become None, recursively, so the JSON is strict (any parser reads it)."""
    import math

    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def metrics_table(r: dict[str, Any]) -> str:
    """The evaluation as an aligned table: metric, value, std, extractor, N, what N and std mean."""
    def num(v: Any, fmt: str) -> str:
        return "-" if v is None or v != v else format(v, fmt)

    ext, n = r["extractor"], r["eval_n"]
    k = r["num_classes"]
    not_classifier = (f"n/a: {ext} does not classify the data's {k} classes" if k else
                      "n/a: the data has no class labels")
    cc = r.get("classes_covered")
    kid_fmt = ".5f" if r["kid"] is None or abs(r["kid"]) < 10 else ".2f"
    # Subsets as large as the sample hold every sample: all 100 give the same value, std 0.
    whole_set = r["kid_subset"] is not None and r["kid_subset"] >= min(n, r["real_n"])
    rows = [
        ("FID", num(r["fid"], ".4f"), num(r["fid_std"], ".4f"), n,
         f"vs {r['real_n']} real images; std: bootstrap of the generated set"),
        ("KID", num(r["kid"], kid_fmt), "-" if whole_set else num(r["kid_std"], kid_fmt), n,
         "one subset = all samples: no spread" if whole_set else f"std over subsets of {r['kid_subset']}"),
        ("IS", num(r["is_mean"], ".4f"), num(r["is_std"], ".4f"), n,
         "std over 10 splits" if r["is_mean"] == r["is_mean"] else f"n/a: {ext} has no classifier head"),
        ("precision", num(r["precision"], ".4f"), "", r["pr_n"], f"k = 3, {r['pr_n']} real vs {r['pr_n']} generated"),
        ("recall", num(r["recall"], ".4f"), "", r["pr_n"], f"k = 3, {r['pr_n']} real vs {r['pr_n']} generated"),
        ("classes covered", "-" if cc is None or cc != cc else f"{int(cc)} / {k}", "", n,
         "classes with >= 10% of their expected share" if cc == cc and cc is not None else not_classifier),
        ("class KL", num(r["class_kl"], ".4f"), "", n,
         "KL(generated || real) of predicted classes, nats" if r["class_kl"] == r["class_kl"] else not_classifier),
    ]
    if r["conditional"]:
        acc = r["label_acc"]
        rows.append(("label accuracy", num(acc, ".4f"), "", n,
                     "share classified as the label asked for" if acc == acc else not_classifier))
    head = ("metric", "value", "± std", "extractor", "N", "")
    table = [head] + [(a, b, c, ext, str(d), e) for a, b, c, d, e in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    lines = [f"run         {r['run']}  ({r['model']} on {r['dataset']})",
             f"checkpoint  {r['checkpoint']}  (epoch {r['epoch']})",
             f"device      {r['device']}; evaluated in {r['eval_time_s']:.1f} s",
             ""]
    for row in table:
        cells = [str(row[0]).ljust(widths[0]), str(row[1]).rjust(widths[1]), str(row[2]).rjust(widths[2]),
                 str(row[3]).ljust(widths[3]), str(row[4]).rjust(widths[4]), str(row[5])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def cmd_metrics(args: argparse.Namespace) -> int:
    import json

    run = find_run(args.run, args.runs_dir)
    if args.n is not None and args.n < 2:
        raise CLIError(f"--n must be at least 2, got {args.n}")
    device = _check_device(args.device)
    result = evaluate_run(run, checkpoint=args.checkpoint, extractor=args.extractor, n=args.n, device=device,
                          inception_weights=args.inception_weights)
    for note in result["notes"]:
        eprint(f"note: {note}")
    for warning in result["warnings"]:
        eprint(f"warning: {one_line(warning)}")
    if args.json:
        print(json.dumps(_finite(result), indent=2))
    else:
        print(metrics_table(result))
    return OK


# ---- entry point ---------------------------------------------------------------------------------
def eprint(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


def one_line(message: str) -> str:
    return " ".join(str(message).split())


def error_message(e: BaseException) -> str:
    # KeyError's str() is the repr of its argument; the registries put a sentence there.
    if isinstance(e, KeyError) and e.args:
        return one_line(e.args[0])
    return one_line(str(e) or type(e).__name__)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as e:  # argparse's own errors (usage + one line, code 2) and --help (0)
        return e.code if isinstance(e.code, int) else (OK if e.code is None else USAGE)
    try:
        if extras:
            raise unknown_flag_error(args.command, extras)
        return args.func(args)
    except (ConfigError, DatasetUnavailable, CLIError, FileNotFoundError, ValueError, KeyError, OSError) as e:
        eprint(f"error: {error_message(e)}")
        return USAGE
    except KeyboardInterrupt:
        eprint("\ninterrupted")
        return INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

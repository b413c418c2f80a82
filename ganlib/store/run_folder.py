"""The run store: one folder per run under `checkpoints/`, readable by the UI, the CLI and pandas.

    checkpoints/00003-mlp_gan-mnist5k/
        config.json        the TrainConfig
        status.json        state, epoch, error and traceback; rewritten atomically
        metrics.csv        one row per finished epoch, rewritten atomically every epoch
        stream.csv         running means of the losses about twice a second, appended while training
        preview.png        the fixed-noise grid every few seconds of a run's first minute
        samples/epoch_0001.png ...
        evals.jsonl        one line per live evaluation: FID, KID, ..., per-class numbers
        edits.jsonl        hyperparameter changes made while training or at a fork
        fork.json          for a fork: the parent run, checkpoint, epoch and changes
        owner.json         who made the run (a shared server's user; "local" for the CLI); none in older runs
        ckpt/epoch_0010.pt ...  and ckpt/best.pt, the lowest-FID state
        recon/epoch_0001.png ...   a VAE's reconstructions
        human_eval.jsonl   answers of the Real-or-fake test
        favourites.json    latents pinned in the latent explorer
        explorer/          the latent explorer's measured truncation curves
        augment.json       the augmentation experiment: settings, accuracies per arm, size and seed
        augment.csv        its table: one row per arm and real-images size, mean and spread over seeds
        tb/                TensorBoard event files (live with `tensorboard`, or `python -m ganlib tensorboard`)

`Run` is the only code that names the files inside a run folder: every other module asks it
for a path or calls its writers. Nothing here imports the training loop: a viewer can list
and read runs while another process (the CLI) is writing them.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ganlib.core.atomic import atomic_write_text, is_temp_file
from ganlib.core.errors import BadValue, NotAFolder, NotFound
from ganlib.core.numbers import finite_or_none, number
from ganlib.store import csv_cache
from ganlib.store.config import TrainConfig

DEFAULT_RUNS_DIR = Path(os.environ.get("GANLIB_RUNS_DIR", Path(__file__).resolve().parents[2] / "checkpoints"))
_RUN_RE = re.compile(r"^(\d{5})-")
_EPOCH_RE = re.compile(r"epoch_(\d+)\.(png|pt)$")
GRID_FOLDERS = ("samples", "recon")  # the per-epoch grids a run folder holds: the samples, a VAE's reconstructions

# States a run can be in; "running" is only trusted while its process is alive.
LIVE_STATES = ("queued", "running", "paused")
END_STATES = ("completed", "stopped", "failed", "diverged", "interrupted")


def runs_dir(path: str | Path | None = None) -> Path:
    return Path(path) if path else DEFAULT_RUNS_DIR


def new_run_dir(cfg: TrainConfig, root: str | Path | None = None) -> Path:
    """`NNNNN-model-dataset`, numbered after the highest existing run; created exclusively."""
    root = runs_dir(root)
    check_runs_root(root)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        nums = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_RE.match(p.name))]
        path = root / f"{max(nums, default=-1) + 1:05d}-{cfg.model}-{cfg.dataset}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another process took the number: try the next
            continue


def check_runs_root(root: Path) -> None:
    """Refuse a runs folder that is a file (or sits under one) in words, not `[Errno 17]`."""
    for p in (root, *root.parents):
        if p.exists():
            if not p.is_dir():
                raise NotAFolder(f"runs folder {root}: {p} is a file, not a folder")
            return


@dataclass
class Run:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    # ---- the files, named here only ------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def owner_file(self) -> Path:
        return self.path / "owner.json"

    def owner(self) -> Optional[str]:
        """The user who made the run (`store.access`), or None for a run from before owners."""
        try:
            name = json.loads(self.owner_file.read_text()).get("owner")
        except (OSError, ValueError, AttributeError, RecursionError):
            return None
        return name if isinstance(name, str) and name else None

    def write_owner(self, name: str) -> None:
        atomic_write_text(self.owner_file, json.dumps({"owner": name, "since": time.time()}))

    @property
    def human_eval_file(self) -> Path:
        return self.path / "human_eval.jsonl"

    @property
    def favourites_file(self) -> Path:
        return self.path / "favourites.json"

    @property
    def explorer_dir(self) -> Path:
        return self.path / "explorer"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tb"

    @property
    def augment_file(self) -> Path:
        return self.path / "augment.json"

    @property
    def augment_table_file(self) -> Path:
        return self.path / "augment.csv"

    def write_augment(self, result: dict[str, Any], table: list[dict[str, Any]]) -> None:
        """The augmentation experiment's result and its summary table (the latest replaces the last)."""
        atomic_write_text(self.augment_file, json.dumps(result, indent=2))
        atomic_write_text(self.augment_table_file, rows_to_csv(table))

    def augment(self) -> Optional[dict[str, Any]]:
        """The last augmentation experiment written, or None."""
        try:
            return json.loads(self.augment_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    @property
    def lock_file(self) -> Path:
        """Held with an OS lock while a process trains the run (`store.run_lock`)."""
        return self.path / ".train.lock"

    @property
    def lock_owner_file(self) -> Path:
        """The pid of the lock's holder, for the refusal of a second trainer."""
        return self.path / ".train.owner.json"

    def remove_temp_files(self) -> list[Path]:
        """Delete the temp files of atomic writes a killed process left behind (call it only
        while holding the run's lock: a live writer's temp file would vanish under it)."""
        found = [p for p in self.path.rglob(".*") if p.is_file() and is_temp_file(p)]
        for p in found:
            p.unlink(missing_ok=True)
        return found

    def config(self) -> TrainConfig:
        return TrainConfig.from_json(self.config_file.read_text())

    def save_config(self, cfg: TrainConfig) -> None:
        atomic_write_text(self.config_file, cfg.to_json())

    # ---- status -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        try:
            st = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError, RecursionError):  # missing, not UTF-8, not JSON: said, not raised
            return {"state": "unknown"}
        if not isinstance(st, dict):
            return {"state": "unknown"}
        if st.get("state") in LIVE_STATES and not pid_alive(st.get("pid")):
            st["state"] = "interrupted"  # its process died without saying so
        return st

    def write_status(self, **fields: Any) -> None:
        try:
            st = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError, RecursionError):
            st = {}
        st = st if isinstance(st, dict) else {}
        st.update(fields, pid=os.getpid(), updated=time.time())
        atomic_write_text(self.path / "status.json", json.dumps(st, indent=2))

    # ---- metrics ------------------------------------------------------------------------
    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.csv"

    def metrics(self) -> list[dict[str, float]]:
        """metrics.csv's rows, parsed once per version of the file in this process (`csv_cache`)."""
        return csv_cache.rows(self.metrics_file, _parse_metrics)

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.metrics_file, rows_to_csv(rows))

    # ---- files --------------------------------------------------------------------------
    def write_metrics_csv(self, text: str) -> None:
        """metrics.csv as given (an import brings a checked file)."""
        atomic_write_text(self.metrics_file, text)

    @property
    def stream_file(self) -> Path:
        return self.path / "stream.csv"

    @property
    def preview_path(self) -> Path:
        """The fixed-noise grid of the latest few seconds (the first minute of a run)."""
        return self.path / "preview.png"

    def append_stream(self, row: dict[str, Any]) -> None:
        """One row of running means, appended (a header first in a new file). A line torn by a
        crash is skipped by `stream()`; the next resume rewrites the file whole."""
        new = not self.stream_file.is_file() or self.stream_file.stat().st_size == 0
        with open(self.stream_file, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row), lineterminator="\n")
            if new:
                w.writeheader()
            w.writerow(row)

    def stream(self) -> list[dict[str, Any]]:
        """The running means written during training (`ganlib.engine.stream`), oldest first; a
        poll parses only the lines appended since the last (`csv_cache`)."""
        return csv_cache.rows(self.stream_file, _parse_stream, append_only=True)

    def keep_stream_until(self, epoch: float) -> None:
        """Drop the stream rows after `epoch` (a resume restarts from its checkpoint's epoch)."""
        rows = [r for r in self.stream() if r["epoch"] <= epoch]
        if self.stream_file.is_file():
            atomic_write_text(self.stream_file, rows_to_csv(rows) if rows else "")

    def samples(self) -> list[tuple[int, Path]]:
        return _by_epoch(self.path / "samples", "png")

    def checkpoints(self) -> list[tuple[int, Path]]:
        return _by_epoch(self.checkpoint_dir, "pt")

    def latest_checkpoint(self) -> Optional[Path]:
        ck = self.checkpoints()
        return ck[-1][1] if ck else None

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "ckpt"

    def best_epoch(self) -> Optional[int]:
        """The epoch whose FID best.pt holds, read from metrics.csv (no checkpoint load)."""
        best = None
        for r in self.metrics():
            f = finite_or_none(r.get("fid"))
            if f is not None and (best is None or f < best[0]):
                best = (f, int(r["epoch"]))
        return best[1] if best else None

    def has_checkpoint(self) -> bool:
        """An epoch's checkpoint or best.pt: something to sample, evaluate or judge."""
        return bool(self.checkpoints()) or self.best_checkpoint_path().is_file()

    def best_checkpoint_path(self) -> Path:
        """The checkpoint of the lowest FID so far (written when live evaluation is on)."""
        return self.checkpoint_dir / "best.pt"

    def evals(self) -> list[dict[str, Any]]:
        """Full evaluation records (per-class FID, histograms), one per evaluated epoch."""
        return _jsonl(self.evals_file)

    def edits(self) -> list[dict[str, Any]]:
        """Hyperparameter changes: {"epoch", "source": "live" | "fork", "changes": {field: [old, new]}}."""
        return _jsonl(self.path / "edits.jsonl")

    @property
    def evals_file(self) -> Path:
        return self.path / "evals.jsonl"

    def write_evals(self, records: list[dict[str, Any]]) -> None:
        atomic_write_text(self.evals_file, _to_jsonl(records))

    def write_edits(self, edits: list[dict[str, Any]]) -> None:
        atomic_write_text(self.path / "edits.jsonl", _to_jsonl(edits))

    def write_fork_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.path / "fork.json", json.dumps(info, indent=2))

    def fork_info(self) -> Optional[dict[str, Any]]:
        """For a forked run: its parent, the checkpoint and epoch it started from, the changes."""
        try:
            return json.loads((self.path / "fork.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def recon_path(self, epoch: int) -> Path:
        """A VAE's reconstruction grid: 4 rows of originals, each followed by its reconstruction."""
        return self.grid_path("recon", epoch)

    def grid_path(self, name: str, epoch: int) -> Path:
        """An epoch's grid of kind `name`: "samples", or an update rule's extra grid ("recon")."""
        if name not in GRID_FOLDERS:
            raise BadValue(f"unknown grid {name!r}; known: {', '.join(GRID_FOLDERS)}")
        return self.path / name / f"epoch_{epoch:04d}.png"

    def reconstructions(self) -> list[tuple[int, Path]]:
        return _by_epoch(self.path / "recon", "png")

    def sample_path(self, epoch: int) -> Path:
        return self.grid_path("samples", epoch)

    def checkpoint_path(self, epoch: int) -> Path:
        return self.checkpoint_dir / f"epoch_{epoch:04d}.pt"

    def summary(self) -> dict[str, Any]:
        """One row of the runs table."""
        st = self.status()
        state = st.get("state")
        row: dict[str, Any] = {"run": self.name, "status": state if isinstance(state, str) else "unknown"}
        try:
            cfg = self.config()
            row.update(model=cfg.model, dataset=cfg.dataset, loss=cfg.loss, epochs=cfg.epochs)
        except Exception:  # noqa: BLE001 - a broken config still lists, marked
            row.update(model="?", dataset="?", loss="?", epochs=None)
        m = self.metrics()
        last = m[-1] if m else {}
        epoch = finite_or_none(last.get("epoch")) if m else 0.0
        problems = []
        if epoch is None or not (epoch.is_integer() and epoch >= 0):
            problems.append(f"metrics.csv: the last epoch is {last.get('epoch')!r}, not an epoch number")
            epoch = None
        row["epoch"] = int(epoch) if epoch is not None else None
        row["d_loss"], row["g_loss"] = finite_or_none(last.get("d_loss")), finite_or_none(last.get("g_loss"))
        ckpts = self.checkpoints()
        row["checkpoints"] = len(ckpts)
        saved = ckpts[-1][0] if ckpts else 0
        if row["status"] == "interrupted" and row["epoch"] is not None and row["epoch"] > saved:
            # what a resume will start from: the epochs after the last checkpoint are lost
            problems.append(f"killed after epoch {row['epoch']}; the last checkpoint is epoch {saved}, "
                            "where a resume restarts")
            row["epoch"] = saved
        row["error"] = "; ".join(([str(st["error"])] if st.get("error") else []) + problems)
        return row


def list_runs(root: str | Path | None = None) -> list[Run]:
    root = runs_dir(root)
    if not root.is_dir():
        return []
    return [Run(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / "config.json").is_file()]


def find_run(name_or_path: str | Path, root: str | Path | None = None) -> Run:
    p = Path(name_or_path)
    for cand in (p, runs_dir(root) / p):
        if (cand / "config.json").is_file():
            return Run(cand)
    raise NotFound(f"no run at {name_or_path} (a run folder holds config.json)")


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _to_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def _by_epoch(folder: Path, ext: str) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _EPOCH_RE.search(p.name)) and m.group(2) == ext]
    return sorted(found)


def _parse_metrics(text: str) -> list[dict[str, Any]]:
    return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _parse_stream(text: str) -> list[dict[str, Any]]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        values = {k: finite_or_none(v) for k, v in row.items() if k is not None}
        if values.get("epoch") is not None and None not in row:
            rows.append(values)
    return rows


def _num(v: str) -> float | str | None:
    """A metrics.csv cell: a number, None for an empty cell (a column this row does not have,
    e.g. FID on an epoch without evaluation), else its text (the extractor's name)."""
    if v is None or v == "":
        return None
    f = number(v)
    return v if f is None else f


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

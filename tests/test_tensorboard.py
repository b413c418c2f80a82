"""TensorBoard event files (`ganlib.interchange.tensorboard`), read back with TensorBoard's own
reader, never with our code: the files from metrics.csv and the live logger's."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganlib.interchange.tensorboard import TensorBoardLogger, write_tensorboard, write_tensorboard_all
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

START = 1_700_000_000.0  # the run's start: config.json's mtime

METRICS_CSV = """epoch,d_loss,g_loss,elapsed_s,fid,extractor
1,0.75,1.25,10.5,,
2,0.5,1.5,21.0,123.456,digits
3,0.25,2.0,31.5,nan,digits
"""


def make_run(root: Path, name: str, metrics: str | None = METRICS_CSV) -> Run:
    path = root / name
    path.mkdir(parents=True)
    (path / "config.json").write_text(TrainConfig(device="cpu").to_json())
    os.utime(path / "config.json", (START, START))
    if metrics is not None:
        (path / "metrics.csv").write_text(metrics)
    return Run(path)


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float, float]]]:
    """{tag: [(step, value, wall_time), ...]} as TensorBoard itself reads the folder."""
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_event_file_from_metrics_csv_reads_back_in_tensorboard(tmp_path):
    run = make_run(tmp_path, "00000-mlp_gan-mnist5k")
    path = write_tensorboard(run)
    assert path.parent == run.path / "tb" and path.name.startswith("events.out.tfevents.")
    assert path.name.endswith(".ganlib")
    scalars = read_scalars(run.path / "tb")
    # every numeric column but the epoch is a tag; the string column and empty or NaN cells are not
    assert set(scalars) == {"d_loss", "g_loss", "elapsed_s", "fid"}
    assert [s for s, _, _ in scalars["d_loss"]] == [1, 2, 3]  # one step per epoch
    assert [v for _, v, _ in scalars["g_loss"]] == [1.25, 1.5, 2.0]
    assert [w for _, _, w in scalars["d_loss"]] == [START + 10.5, START + 21.0, START + 31.5]
    ((step, fid, wall),) = scalars["fid"]
    assert step == 2 and fid == pytest.approx(123.456, rel=1e-6) and wall == START + 21.0

    again = write_tensorboard(run)  # replaced, not added: TensorBoard shows the run once
    assert [p.name for p in (run.path / "tb").iterdir()] == [again.name]
    assert read_scalars(run.path / "tb") == scalars


def test_write_for_every_run_with_metrics(tmp_path):
    a = make_run(tmp_path, "00000-a")
    b = make_run(tmp_path, "00001-b", "epoch,d_loss\n1,0.5\n")
    make_run(tmp_path, "00002-new", metrics=None)  # no metrics.csv yet: nothing to write
    paths = write_tensorboard_all(tmp_path)
    assert [p.parent.parent for p in paths] == [a.path, b.path]
    assert read_scalars(b.path / "tb") == {"d_loss": [(1, 0.5, START)]}  # no elapsed_s: the start
    assert not (tmp_path / "00002-new" / "tb").exists()


def test_live_logger_is_readable_while_the_run_goes_on(tmp_path):
    rows = [{"epoch": 1, "d_loss": 0.75, "g_loss": 1.25, "extractor": "digits", "fid": float("nan")},
            {"epoch": 2, "d_loss": 0.5, "g_loss": 1.5, "fid": 80.25, "eval_n": 256, "diverged": False}]
    with TensorBoardLogger(tmp_path) as log:
        log.log_row(rows[0])
        first = read_scalars(tmp_path / "tb")  # readable at once: the logger flushes after each row
        assert {t: [(s, v) for s, v, _ in e] for t, e in first.items()} == {"d_loss": [(1, 0.75)],
                                                                             "g_loss": [(1, 1.25)]}
        log.log_row(rows[1])
        log.log_row({"d_loss": 9.0})  # no epoch: no step to file it under
        scalars = read_scalars(tmp_path / "tb")
    assert set(scalars) == {"d_loss", "g_loss", "fid", "eval_n"}
    assert [(s, v) for s, v, _ in scalars["d_loss"]] == [(1, 0.75), (2, 0.5)]
    assert [(s, v) for s, v, _ in scalars["fid"]] == [(2, 80.25)] and scalars["eval_n"][0][1] == 256
    assert read_scalars(tmp_path / "tb") == scalars


def test_a_run_logs_to_tensorboard_while_it_trains(tiny_cfg, tmp_path):
    """With `tensorboard` on, each finished epoch is in tb/ before the next one starts."""
    from ganlib.engine.callbacks import Callbacks
    from ganlib.engine.training import train

    seen = []

    def on_epoch(row):
        acc = EventAccumulator(str(Run(path_of[0]).tensorboard_dir))
        acc.Reload()
        seen.append([e.step for e in acc.Scalars("d_loss")])

    path_of = []
    res = train(tiny_cfg(epochs=2, eval_every=0, tensorboard=True), runs_dir=tmp_path,
                callbacks=Callbacks(on_start=lambda run: path_of.append(run.path), on_epoch=on_epoch))
    assert res.state == "completed"
    assert seen == [[1], [1, 2]]  # readable during the run, one step per epoch
    acc = EventAccumulator(str(res.run.tensorboard_dir))
    acc.Reload()
    assert [round(e.value, 5) for e in acc.Scalars("g_loss")] == [round(r["g_loss"], 5) for r in res.rows]


def test_tensorboard_off_writes_nothing(tiny_cfg, tmp_path):
    from ganlib.engine.training import train

    res = train(tiny_cfg(epochs=1, eval_every=0), runs_dir=tmp_path)
    assert not res.run.tensorboard_dir.exists()

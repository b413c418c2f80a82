"""Issue 24, cheap to watch: a run's files are parsed once per change in a process (stream.csv
only from where the last read stopped), and the live figures are built once per change and
shared by every session watching the run."""
from __future__ import annotations

import time

from ganlib.store import csv_cache
from ganlib.store.run_folder import Run
from ganlib.ui import live_figures


def test_csv_files_are_parsed_once_per_change_and_appends_only_from_the_last_read(tmp_path, monkeypatch):
    run = Run(tmp_path)
    run.append_stream({"epoch": 0.1, "d_loss": 1.0})
    parsed = []
    real = csv_cache._full, csv_cache._append
    monkeypatch.setattr(csv_cache, "_full", lambda *a: parsed.append("full") or real[0](*a))
    monkeypatch.setattr(csv_cache, "_append", lambda *a: parsed.append("append") or real[1](*a))
    assert [r["epoch"] for r in run.stream()] == [0.1]
    assert run.stream() == run.stream() and parsed == ["full"]  # unchanged: no parse at all
    run.append_stream({"epoch": 0.2, "d_loss": 0.9})
    with open(run.stream_file, "a") as f:
        f.write("0.3,0.")  # a line still being written: not read yet
    assert [r["epoch"] for r in run.stream()] == [0.1, 0.2] and parsed == ["full", "append"]
    with open(run.stream_file, "a") as f:
        f.write("8\n")
    assert [r["d_loss"] for r in run.stream()] == [1.0, 0.9, 0.8]
    rows = run.stream()
    rows[0]["epoch"] = 99  # a caller's change does not reach the cache
    assert run.stream()[0]["epoch"] == 0.1
    run.keep_stream_until(0.2)  # rewritten whole (a new file): parsed whole
    assert [r["epoch"] for r in run.stream()] == [0.1, 0.2] and parsed[-1] == "full"


def test_live_figures_are_built_once_per_change_and_shared(runs):
    run = runs.mlp
    rows, stream = run.metrics(), run.stream()
    a = live_figures.build(run, rows, stream)
    b = live_figures.build(run, rows, stream)  # another session, same version of the files
    assert a is b and a["loss"] is not None
    time.sleep(0.01)
    run.write_metrics(rows)  # a new epoch's rewrite: a new version
    c = live_figures.build(run, run.metrics(), stream)
    assert c is not a
    job = live_figures.build(run, rows, stream, version=(1, 5))
    assert live_figures.build(run, rows, stream, version=(1, 5)) is job
    assert live_figures.build(run, rows, stream, version=(1, 6)) is not job

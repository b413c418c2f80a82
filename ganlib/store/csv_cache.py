"""Parsed CSV files of runs, shared by every reader in the process, so that many viewers polling
the same run cost one parse per change: a file is parsed again only when its inode, size or
mtime changed, and an append-only file (a run's stream.csv) parses only the lines added since.

    rows = csv_cache.rows(path, parse)                      # parse(text) -> list of row dicts
    rows = csv_cache.rows(path, parse, append_only=True)    # stream.csv: new complete lines only

Each call returns fresh copies of the rows (callers may change them). A file rewritten in place
(metrics.csv is replaced atomically each epoch: a new inode) or shortened is parsed whole.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

MAX_FILES = 256  # files kept parsed; the least recently read goes first
Parse = Callable[[str], list[dict[str, Any]]]


@dataclass
class _Entry:
    ino: int
    size: int
    mtime_ns: int
    offset: int  # bytes parsed (up to the last complete line)
    header: str  # the first line, for parsing appended lines
    rows: list[dict[str, Any]]


_cache: OrderedDict[str, _Entry] = OrderedDict()
_lock = threading.Lock()


def rows(path: Path, parse: Parse, append_only: bool = False) -> list[dict[str, Any]]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return []
    key = str(path)
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
    if entry is None or (entry.ino, entry.size, entry.mtime_ns) != (st.st_ino, st.st_size, st.st_mtime_ns):
        if entry is not None and append_only and entry.ino == st.st_ino and st.st_size >= entry.offset > 0:
            entry = _append(path, entry, parse, st)
        else:
            entry = _full(path, parse, st)
        with _lock:
            _cache[key] = entry
            while len(_cache) > MAX_FILES:
                _cache.popitem(last=False)
    return [dict(r) for r in entry.rows]


def _full(path: Path, parse: Parse, st: os.stat_result) -> _Entry:
    data = Path(path).read_bytes()
    end = data.rfind(b"\n") + 1  # a line still being written waits for its newline
    text = data[:end].decode("utf-8", errors="replace")
    header = text.split("\n", 1)[0] + "\n" if text else ""
    return _Entry(st.st_ino, st.st_size, st.st_mtime_ns, end, header, parse(text))


def _append(path: Path, entry: _Entry, parse: Parse, st: os.stat_result) -> _Entry:
    with open(path, "rb") as f:
        f.seek(entry.offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    new = parse(entry.header + data[:end].decode("utf-8", errors="replace")) if end else []
    return _Entry(st.st_ino, st.st_size, st.st_mtime_ns, entry.offset + end, entry.header, entry.rows + new)

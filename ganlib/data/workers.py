"""Work over many image files in worker processes: the pack's decoding and the inspector's
header reading. Few files stay in this process (a pool costs about a second to start).

    for result in in_workers(decode_chunk, jobs):   # results in the order of `jobs`
        ...

Workers are forked from this process when it runs one thread (the CLI, a script, a notebook):
they start at once, with the reader already imported, and never re-run the main script (a
spawned worker would, so a script without `if __name__ == "__main__":` would break). A process
with other threads (the dashboard's server) must not fork, since a lock another thread holds
would stay locked in the child: its workers come from a forkserver that imported the reader once
(the server's main module, streamlit's, is guarded).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterator, Optional, Sequence

PARALLEL_FROM = 4  # jobs (chunks of files); fewer run in this process
MAX_WORKERS = 8


def default_workers() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))
    except AttributeError:  # not Linux
        return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def in_workers(fn: Callable[..., Any], jobs: Sequence[tuple], workers: Optional[int] = None) -> Iterator[Any]:
    """fn(*job) for every job, in order: in worker processes when there are PARALLEL_FROM jobs or
    more and more than one worker, else here. `fn` must be a module-level function."""
    workers = default_workers() if workers is None else workers
    if len(jobs) < PARALLEL_FROM or workers <= 1:
        for job in jobs:
            yield fn(*job)
        return
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=_context()) as pool:
        yield from pool.map(_call, [(fn, job) for job in jobs])


def _context() -> multiprocessing.context.BaseContext:
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["ganlib.data.workers", "ganlib.data.pack", "ganlib.data.inspection"])
    return ctx


def _call(item: tuple) -> Any:
    fn, job = item
    return fn(*job)

"""Work over many image files in worker processes: the pack's decoding and the inspector's
header reading. Few files stay in this process (a pool costs about a second to start).

    for result in in_workers(decode_chunk, jobs):   # results in the order of `jobs`
        ...

Workers come from a forkserver that has imported the data layer once: safe to start from a
threaded server (the dashboard), and no torch import per worker.
"""
from __future__ import annotations

import multiprocessing
import os
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
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["ganlib.data.workers", "ganlib.data.pack", "ganlib.data.inspection"])
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx) as pool:
        yield from pool.map(_call, [(fn, job) for job in jobs])


def _call(item: tuple) -> Any:
    fn, job = item
    return fn(*job)

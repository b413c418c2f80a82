"""Work over many image files in parallel: the pack's decoding and the inspector's header
reading. Few files stay in this thread (a pool costs more than it saves).

    for result in in_workers(decode_chunk, jobs):   # results in the order of `jobs`
        ...

From a process that runs one thread (the CLI, a script, a notebook, the benchmarks) the workers
are processes forked from it: they start at once with the reader imported, and never re-run the
main script (a spawned or forkserver worker does, so a script without `if __name__ ==
"__main__":` would break; the dashboard's `python -m streamlit run` would start its app again in
every worker). A process with other threads (the dashboard's server) must not fork, since a lock
another thread holds would stay locked in the child: there the workers are threads, which run
in parallel while PIL decodes and resizes (it releases the GIL there).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Callable, Iterator, Optional, Sequence

PARALLEL_FROM = 4  # jobs (chunks of files); fewer run in this thread
MAX_WORKERS = 8


def default_workers() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))
    except AttributeError:  # not Linux
        return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def forks() -> bool:
    """Whether workers are forked processes here (else threads)."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def in_workers(fn: Callable[..., Any], jobs: Sequence[tuple], workers: Optional[int] = None) -> Iterator[Any]:
    """fn(*job) for every job, in order: in worker processes or threads when there are
    PARALLEL_FROM jobs or more and more than one worker, else here. `fn` must be a module-level
    function (a forked worker is handed it by name)."""
    workers = default_workers() if workers is None else workers
    if len(jobs) < PARALLEL_FROM or workers <= 1:
        for job in jobs:
            yield fn(*job)
        return
    n = min(workers, len(jobs))
    if forks():
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_call, [(fn, job) for job in jobs])
    else:
        with ThreadPoolExecutor(n, thread_name_prefix="ganlib-read") as pool:
            yield from pool.map(_call, [(fn, job) for job in jobs])


def _call(item: tuple) -> Any:
    fn, job = item
    return fn(*job)

"""Per-thread torch CPU thread counts: a training job or a 2-D lesson sets its own without
changing anyone else's.

    with torch_threads(1):        # this thread's ops run single-threaded; others keep theirs
        ...

`torch.set_num_threads` sets the calling thread's OpenMP and MKL count, but also torch's
default for threads not started yet; a short helper thread puts that default back. Why it
matters: on 2 busy cores (a job, the server, another process) two spinning OpenMP workers made
small steps 5 to 20 times slower than one thread.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import torch


def set_threads_here(n: int) -> int:
    """Give the calling thread `n` torch threads; returns its previous count."""
    prev = torch.get_num_threads()  # also initialises this thread's pool, which would re-read the default
    if n != prev:
        torch.set_num_threads(n)
        helper = threading.Thread(target=torch.set_num_threads, args=(prev,), name="ganlib-threads")
        helper.start()
        helper.join()
    return prev


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """`set_threads_here(n)` for a block (n = 0: leave the count alone)."""
    if n <= 0:
        yield
        return
    prev = set_threads_here(n)
    try:
        yield
    finally:
        if prev != n:
            torch.set_num_threads(prev)

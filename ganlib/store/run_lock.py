"""One trainer per run folder: an OS file lock (the `filelock` package: flock on Unix, msvcrt
on Windows) held while a process trains the run. A second `train --resume`, or the dashboard
and the CLI at once, is refused with the holder's pid. The kernel drops the lock when its
process dies, so a run whose trainer was killed (`kill -9`, a power cut) is never left blocked.

    lock = RunLock(run).acquire()        # raises RunBusy naming the holder's pid
    try: ...train...
    finally: lock.release()

`status.json`'s pid only says who wrote last; the lock is the guard, since reading the status
and starting are not one atomic step.
"""
from __future__ import annotations

import json
import os
import time

from filelock import FileLock, Timeout

from ganlib.core.atomic import atomic_write_text
from ganlib.core.errors import RunBusy
from ganlib.store.run_folder import Run


class RunLock:
    def __init__(self, run: Run):
        self.run = run
        # Not thread-local: the dashboard's job thread takes it, and any thread may release it.
        self._lock = FileLock(str(run.lock_file), timeout=0, thread_local=False)

    def acquire(self) -> "RunLock":
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise RunBusy(f"run {self.run.name} is being trained by process {self.holder() or '(unknown)'}; "
                          "stop that one before training this run again") from None
        atomic_write_text(self.run.lock_owner_file, json.dumps({"pid": os.getpid(), "since": time.time()}))
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            self.run.lock_owner_file.unlink(missing_ok=True)
            self._lock.release(force=True)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def holder(self) -> int | None:
        """The pid written by the process that holds the lock (None if it cannot be read)."""
        try:
            pid = json.loads(self.run.lock_owner_file.read_text()).get("pid")
        except (OSError, ValueError, AttributeError):
            return None
        return pid if isinstance(pid, int) else None

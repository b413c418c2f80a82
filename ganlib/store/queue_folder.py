"""A shared server's job queue on disk, so that a restart resumes it: one file per waiting job
in the runs folder's `queue/` subfolder (not a run folder: it has no config.json).

    checkpoints/queue/
        000012.json    {"owner", "config", "resume", "queued_at"}: job 12, waiting

`QueueFolder` names these files, as `Run` names a run's. A file is written (atomically) when a
job joins the queue and removed when it starts or is cancelled; the job manager re-queues the
files it finds at start, oldest first. A file that cannot be read is set aside as `.bad`, named
in the log, never silently dropped.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Optional

from ganlib.core.atomic import atomic_write_text
from ganlib.store.run_folder import runs_dir

QUEUE = "queue"  # the subfolder of the runs folder
_FILE_RE = re.compile(r"^(\d{6})\.json$")


class QueueFolder:
    def __init__(self, root: str | Path | None = None):
        self.path = runs_dir(root) / QUEUE

    def file(self, seq: int) -> Path:
        return self.path / f"{seq:06d}.json"

    def next_seq(self) -> int:
        return max((s for s, _ in self._files()), default=0) + 1

    def add(self, owner: str, config: dict[str, Any], resume: Optional[str]) -> int:
        """Write a waiting job; returns its sequence number (its place in the queue)."""
        self.path.mkdir(parents=True, exist_ok=True)
        seq = self.next_seq()
        atomic_write_text(self.file(seq), json.dumps({"owner": owner, "config": config, "resume": resume,
                                                      "queued_at": time.time()}, indent=2))
        return seq

    def remove(self, seq: int) -> None:
        self.file(seq).unlink(missing_ok=True)

    def entries(self) -> list[tuple[int, dict[str, Any]]]:
        """The waiting jobs, oldest first. An unreadable file is renamed `<name>.bad` and skipped."""
        out = []
        for seq, path in self._files():
            try:
                entry = json.loads(path.read_text())
                if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict) \
                        or not isinstance(entry.get("owner"), str):
                    raise ValueError("not a queued job")
            except (OSError, ValueError):
                path.replace(path.with_name(path.name + ".bad"))
                continue
            out.append((seq, entry))
        return out

    def _files(self) -> list[tuple[int, Path]]:
        if not self.path.is_dir():
            return []
        return sorted((int(m.group(1)), p) for p in self.path.iterdir() if (m := _FILE_RE.match(p.name)))

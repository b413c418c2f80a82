"""One run on many processes: `torchrun --nproc_per_node N -m ganlib train ...`.

torch.distributed does the work; this module holds the engine's few hooks into it:

- `join` reads torchrun's environment, takes this rank's device (cuda:LOCAL_RANK, or the CPU)
  and joins the process group (NCCL on GPUs, gloo on the CPU).
- Data: every rank holds the whole resident tensor and draws the same permutation (same seed,
  same RNG); `shard` hands each rank its contiguous slice of every global batch. The update rules
  draw noise at the global batch and keep their slice (`UpdateRule.mine`), so the RNG stream is the
  single process's and a checkpoint resumes under any world size.
- Gradients: `sync_gradients` averages every optimizer's gradients over the ranks just before its
  step (an optimizer pre-hook), rather than wrapping G and D in DistributedDataParallel: a GAN step
  runs D three times, freezes D's weights for G's update and takes double backwards for the
  penalties, all of which DDP's reducer mishandles; one flat all-reduce per optimizer step sees
  only the gradients, whatever produced them. Weights therefore stay identical on every rank.
- BatchNorm: each rank normalises with its own shard's statistics (what DDP does without
  SyncBatchNorm); weights are shared, running statistics are rank 0's. A model without BatchNorm
  (or with layer norm) trains exactly as one process would, up to summation order.
- Writing: rank 0 owns the run folder. The other ranks keep their bookkeeping in a scratch folder
  that is removed at the end, and skip grids and checkpoints (`Trainer.lead`).
- Failure: a rank that fails puts its error in torchrun's key-value store before it exits; rank 0,
  whose next collective then fails (or which torchrun ends with SIGTERM), records that error in
  status.json and prints it.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Optional

import torch
import torch.distributed as dist

from ganlib.core import distributed as world
from ganlib.core.errors import ConfigError

ERROR_KEY = "ganlib/failed_rank"
HALT_EVERY = 8  # steps between the ranks' agreement on a stop or an exhausted time budget
TIMEOUT = timedelta(minutes=10)  # a collective waiting on a vanished rank gives up after this


class RankFailed(RuntimeError):
    """Another rank of the job failed (or torchrun ended this one because it did)."""


def launched() -> bool:
    """Started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_rank() -> int:
    """This process's rank as torchrun set it (0 outside a job), known before the group is joined."""
    return int(os.environ.get("RANK", "0"))


def join(device_name: str) -> Optional[torch.device]:
    """Join torchrun's process group once; None outside a multi-process job. `device_name` is the
    config's device: auto and cuda mean this rank's GPU."""
    if not launched():
        return None
    local = int(os.environ.get("LOCAL_RANK", "0"))
    gpu = device_name != "cpu" and torch.cuda.is_available()
    if device_name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was asked for but no GPU is visible; use auto or cpu")
    device = torch.device("cuda", local) if gpu else torch.device("cpu")
    if gpu:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if gpu else "gloo", timeout=TIMEOUT)
    if world.is_lead():
        _on_sigterm(_terminated)
    return device


def _on_sigterm(handler) -> None:
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: torchrun's SIGTERM then simply ends the process
        pass


def _terminated(signum, frame):
    _on_sigterm(signal.SIG_IGN)  # the failure is being recorded: one is enough
    raise RankFailed(peer_error() or "torchrun ended this rank (SIGTERM): another rank exited")


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def check_batch(batch_size: int) -> None:
    W = world.world_size()
    if batch_size % W:
        raise ConfigError("batch_size", f"the global batch {batch_size} must divide by the {W} processes "
                                        f"of the torchrun job")


def shard(idx: torch.Tensor) -> torch.Tensor:
    """This rank's rows of one global batch."""
    W = world.world_size()
    if W == 1:
        return idx
    b = idx.shape[0] // W
    r = world.rank()
    return idx[r * b:(r + 1) * b]


def sync_gradients(optimizers: dict[str, torch.optim.Optimizer]) -> None:
    """Average each optimizer's gradients over the ranks right before it steps."""
    if not world.active():
        return

    def average(opt, args, kwargs):
        world.average_([p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None])

    for opt in optimizers.values():
        opt.register_step_pre_hook(average)


def halting(stop: bool, over_budget: bool, step: int, device: torch.device) -> tuple[bool, bool]:
    """(stop, over budget) as all ranks agree, every HALT_EVERY steps: a rank that stopped alone
    would leave the others waiting in the next all-reduce."""
    if not world.active():
        return stop, over_budget
    if step % HALT_EVERY:
        return False, False
    t = torch.tensor([float(stop), float(over_budget)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    s, o = t.tolist()
    return bool(s), bool(o)


def scratch_dir() -> Path:
    """Where a rank other than 0 keeps its run bookkeeping (removed by `cleanup`)."""
    return Path(tempfile.mkdtemp(prefix=f"ganlib-rank{world.rank()}-"))


def cleanup(path: Optional[Path]) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def _store():
    try:
        return dist.distributed_c10d._get_default_store()  # torchrun's store: alive while the job is
    except (RuntimeError, ValueError, AttributeError):
        return None


def report_failure(error: str) -> None:
    """Tell rank 0 why this rank is about to exit."""
    store = _store()
    if store is not None:
        try:
            store.set(ERROR_KEY, f"rank {world.rank()} failed: {error}")
        except RuntimeError:
            pass


def peer_error() -> Optional[str]:
    store = _store()
    if store is None:
        return None
    try:
        if store.check([ERROR_KEY]):
            return store.get(ERROR_KEY).decode()
    except RuntimeError:
        return None
    return None


def explain(error: str) -> str:
    """Rank 0's error: the failing rank's own message when there is one (the lead's own
    collective error then is only the echo of it)."""
    _on_sigterm(signal.SIG_IGN)
    peer = peer_error()
    return peer or error

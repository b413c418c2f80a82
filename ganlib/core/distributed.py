"""Who this process is in a `torchrun` job, and the few collectives the layers above share.

Outside torchrun (or before the engine joins the process group) every answer is that of a single
process: rank 0 of 1, and the collectives return their input. So the metrics can gather across
ranks without knowing whether they run in a job, and a plain run pays nothing.
"""
from __future__ import annotations

import torch
import torch.distributed as dist


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_lead() -> bool:
    """Rank 0: the one process that writes the run folder and prints."""
    return rank() == 0


def average_(tensors: list[torch.Tensor]) -> None:
    """Average equal-shaped tensors over the ranks in place, in one flat all-reduce."""
    if not active() or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors]).float()
    dist.all_reduce(flat)
    flat /= world_size()
    i = 0
    for t in tensors:
        t.copy_(flat[i:i + t.numel()].view_as(t))
        i += t.numel()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on one (a stop that all ranks must take together)."""
    if not active():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def mine(chunk_index: int) -> bool:
    """Whether this rank computes chunk `chunk_index` of a job split round-robin over the ranks."""
    return chunk_index % world_size() == rank()


def gather_chunks(parts: list[torch.Tensor], sizes: list[int], device: torch.device) -> torch.Tensor:
    """Concatenate, in chunk order, the float chunks that the ranks computed round-robin
    (`parts`: this rank's, `sizes`: every chunk's row count), so the result is the
    single-process one. A rank without a chunk learns the row shape from rank 0."""
    if not active():
        return torch.cat(parts)
    W = world_size()
    rows = max(sum(sizes[k::W]) for k in range(W))
    shape = [tuple(parts[0].shape[1:]) if parts else None]
    dist.broadcast_object_list(shape, src=0)
    padded = torch.zeros(rows, *shape[0], dtype=torch.float32, device=device)
    if parts:
        local = torch.cat(parts)
        padded[:local.shape[0]] = local
    out = [torch.empty_like(padded) for _ in range(W)]
    dist.all_gather(out, padded)
    pieces, offsets = [], [0] * W
    for k, n in enumerate(sizes):
        src = k % W
        pieces.append(out[src][offsets[src]:offsets[src] + n])
        offsets[src] += n
    return torch.cat(pieces)

"""Batches of a dataset that does not fit the device, gathered ahead of the training loop.

    feed = Prefetcher(pixels, order, device)   # pixels: uint8 on the host (a memory-mapped pack)
    x = feed.take(order[0])                    # the batch, on the device; the next ones are on their way
    feed.close()

A background thread gathers each step's rows (in the epoch's order, so the batches are those a
resident run would draw), pins them when the device is a GPU, and keeps DEPTH batches queued;
the loop copies a pinned batch to the GPU without blocking. torch's indexing releases the GIL,
so the gathering (and the page-ins of a memory-mapped file) overlap the training step. There is
no per-item loader and no decoding here: the pack already holds the final pixels.
"""
from __future__ import annotations

import queue
import threading
from typing import Optional

import torch

DEPTH = 4  # batches gathered ahead
_POLL_S = 0.5


class Prefetcher:
    def __init__(self, pixels: torch.Tensor, order: list[torch.Tensor], device: torch.device, depth: int = DEPTH):
        self.pixels, self.order, self.device = pixels, order, torch.device(device)
        self.pin = self.device.type == "cuda"
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._gather, name="ganlib-prefetch", daemon=True)
        self.thread.start()

    def _gather(self) -> None:
        try:
            for idx in self.order:
                x = self.pixels[idx]
                if self.pin:
                    x = x.pin_memory()
                if not self._put((idx, x)):
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the training thread, which raises it
            self._put(e)

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """The next batch, which must be the rows `idx` (checked on the CPU, where it costs nothing;
        on a GPU the check would be a host sync per step)."""
        while True:
            try:
                item = self.queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if not self.thread.is_alive():
                    raise RuntimeError("the data prefetch thread stopped without a batch") from None
        if isinstance(item, BaseException):
            raise item
        expected, x = item
        if self.device.type == "cpu" and not torch.equal(expected, idx):
            raise RuntimeError("streamed batches out of step with the epoch's order")
        return x.to(self.device, non_blocking=True)

    def close(self, timeout: Optional[float] = 5.0) -> None:
        self.stopping.set()
        while True:  # unblock a put() waiting on a full queue
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout)

"""The training loop of one run: `Trainer` holds its state and trains epoch by epoch.
`ganlib.engine.training.train` is the entry point that builds one and records the outcome.

Design (why it is fast): the dataset is one tensor on the device and batches are index
gathers from a per-epoch device permutation, so there is no DataLoader, PIL or ToTensor in the
loop. Per-step statistics are summed into a device tensor and read back once per epoch:
`.item()` per step would stall the GPU queue every step. Adam is fused where the device
supports it. The loop only talks to the caller through `Callbacks`; it never prints.

Nothing lost: at the end of every good epoch an in-memory snapshot of the full state is kept.
A stop, a crash or a NaN loss writes that snapshot as a checkpoint (if it is newer than the
last one on disk), so a run always resumes from its last good epoch.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Optional

import torch

from ganlib.core import distributed as world
from ganlib.core.errors import ConfigError
from ganlib.core.images import save_grid
from ganlib.data import ImageData, data_fields
from ganlib.engine import distributed
from ganlib.engine.callbacks import Callbacks, TrainProgress
from ganlib.engine.stream import StatStream, check_numbers
from ganlib.engine.update_rules import UPDATE_RULES, UpdateRule, match_layout
from ganlib.interchange.tensorboard import TensorBoardLogger
from ganlib.metrics.evaluation import evaluate_generator
from ganlib.metrics.health import ceiling_of
from ganlib.models import MODELS, build_models
from ganlib.models.handle import GeneratorHandle, grid_latents
from ganlib.store.checkpoint_format import build_checkpoint, capture_rng, clone_state, restore_rng, save_checkpoint
from ganlib.store.config import TrainConfig, with_changes
from ganlib.store.run_folder import Run

PROGRESS_INTERVAL_S = 0.25
PREVIEW_EVERY_S = 5.0  # the preview grid's refresh during the first minute (later the epoch grids do)
PREVIEW_WINDOW_S = 60.0
COMPILE_PROBE_STEPS = 3  # CUDA graph trees warm up on the 1st call of a graph, record on the 2nd, replay from the 3rd


class Trainer:
    """State of one run; `ganlib.engine.training.train` is the public entry point."""

    def __init__(self, cfg: TrainConfig, run: Run, data: ImageData, device: torch.device):
        self.cfg, self.run, self.data, self.device = cfg, run, data, device
        self.spec = MODELS.get(cfg.model)
        self.conditional = self.spec.conditional
        self.num_classes = max(1, data.num_classes)
        G, D = build_models(cfg, self.num_classes)
        fmt = torch.channels_last if cfg.channels_last else torch.preserve_format
        if cfg.channels_last:  # convolutions pick NHWC kernels when weights and inputs are NHWC
            data.relayout(fmt)  # every batch comes out channels-last
        self.G, self.D = G.to(device, memory_format=fmt), (D.to(device, memory_format=fmt) if D is not None else None)
        self.rule: UpdateRule = UPDATE_RULES.get(self.spec.kind)(cfg, self.G, self.D, self.num_classes,
                                                                 self.conditional, device)
        z, labels, self.grid_cols = grid_latents(cfg.seed, cfg.latent_dim, self.num_classes, self.conditional)
        self.fixed_z = z.to(device)
        self.fixed_labels = labels.to(device) if labels is not None else None
        self.epoch = 0
        self.rows: list[dict[str, Any]] = []
        self.snapshot: Optional[dict[str, Any]] = None
        self.saved_epoch = -1
        self.start_step = 0  # global step at which this process began (for the ETA)
        self.best_fid = math.inf
        self.evals_since_best = 0
        self.evals: list[dict[str, Any]] = []  # full records behind evals.jsonl
        self.notes: list[str] = []
        self.stop_reason: Optional[str] = None  # why a run ended early, e.g. its time budget
        self.deadline: Optional[float] = None  # perf_counter() at which the time budget ends
        self.stream = StatStream(run, lambda row: None)  # running means; fit() routes them to its callbacks
        self.last_preview = -math.inf
        self.untrained: Optional[torch.nn.Module] = None  # the initial G, until its evaluation
        self.tensorboard: Optional[TensorBoardLogger] = None  # opened at the first logged epoch
        self.edits: list[dict[str, Any]] = []  # hyperparameter changes, live or at a fork: the run's history
        self.lead = world.is_lead()  # in a torchrun job only rank 0 writes grids and checkpoints
        distributed.check_batch(cfg.batch_size)
        distributed.sync_gradients(self.rule.optimizers())
        if cfg.compile != "off":
            self.try_compile()

    # ---- state ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything a resumed run needs, as `store.checkpoint_format` lays it out. Absent parts
        (a VAE's D, an EMA that is off) are None."""
        return build_checkpoint(
            epoch=self.epoch, config=self.cfg.to_dict(),
            networks={"D": None, **{k: (m.state_dict() if m is not None else None)
                                    for k, m in self.rule.models().items()}},
            optimizers={k: o.state_dict() for k, o in self.rule.optimizers().items()},
            extra=self.rule.extra_state(), rng=capture_rng(self.device), fixed_z=self.fixed_z,
            fixed_labels=self.fixed_labels, num_classes=self.num_classes, class_names=self.data.class_names,
            metrics=self.rows, evals=self.evals, best_fid=self.best_fid, evals_since_best=self.evals_since_best,
            edits=self.edits)

    def load_weights(self, ck: dict[str, Any]) -> None:
        """Models, optimizers and RNG, copied into the existing tensors (compiled graphs keep
        pointing at them)."""
        for name, model in self.rule.models().items():
            if model is not None and ck.get(name) is not None:
                model.load_state_dict(ck[name])
            elif model is not None and name == "G_ema":  # EMA switched on at resume: start from G
                model.load_state_dict(ck["G"])
        for name, opt in self.rule.optimizers().items():
            if ck.get(name) is not None:  # an imported run has weights only: fresh optimizers
                opt.load_state_dict(ck[name])
                match_layout(opt)
        self.rule.load_extra_state(ck)
        restore_rng(ck["rng"], self.device)

    def load_state(self, ck: dict[str, Any]) -> None:
        self.load_weights(ck)
        self.apply_hyperparameters()  # the optimizer state carries the old lr; the config wins
        self.fixed_z = ck["fixed_z"].to(self.device)
        fl = ck.get("fixed_labels")
        self.fixed_labels = fl.to(self.device) if fl is not None else None
        self.epoch = int(ck["epoch"])
        self.rows = [dict(r) for r in ck.get("metrics", [])][: self.epoch]
        self.evals = [dict(e) for e in ck.get("evals", []) if e["epoch"] <= self.epoch]
        self.best_fid = float(ck.get("best_fid", math.inf))
        self.evals_since_best = int(ck.get("evals_since_best", 0))
        self.edits = [dict(e) for e in ck.get("edits", []) if e["epoch"] <= self.epoch]
        self.saved_epoch = self.epoch

    def try_compile(self) -> None:
        """torch.compile fails late, at a graph's first call (no C compiler, an op it cannot
        trace), so a few steps on the first batch compile every graph the loop runs before the
        run starts; then weights, optimizers and RNG are put back. A failure is a note, not a
        failed run: the run trains eagerly."""
        mode = self.cfg.compile
        if mode == "cuda_graphs" and self.device.type != "cuda":
            self.notes.append("compile cuda_graphs: CUDA graphs need a GPU; compiled without them.")
        before = clone_state(self.state())
        B = self.cfg.batch_size
        x, y = self.rule.batch(self.data, distributed.shard(torch.arange(B, device=self.device)))
        try:
            for i in range(COMPILE_PROBE_STEPS * self.cfg.n_critic):
                self.rule.train_step(x, y, i, 0.0)
        except Exception as e:  # noqa: BLE001 - whatever the compiler raised, eager still trains
            self.rule.compile("off")
            for m in (self.G, self.D):  # a failure inside G's step leaves D's weights frozen
                if m is not None:
                    m.requires_grad_(True)
            why = " ".join(line for line in str(e).splitlines()[:3] if line.strip())[:300]  # dynamo: cause on line 2
            self.notes.append(f"torch.compile ({mode}) failed, so this run trains without it: "
                              f"{type(e).__name__}: {why}")
        self.load_weights(before)
        for opt in self.rule.optimizers().values():
            opt.zero_grad(set_to_none=True)
        self.rule.reset()

    def apply_hyperparameters(self) -> None:
        lrs = {"opt_g": self.cfg.lr_g, "opt_d": self.cfg.lr_d}
        for name, opt in self.rule.optimizers().items():
            for group in opt.param_groups:
                group["lr"], group["betas"] = lrs[name], (self.cfg.beta1, self.cfg.beta2)

    def apply_edits(self, changes: dict[str, Any], source: str = "live") -> None:
        """Change hyperparameters between epochs; the change is validated, saved in config.json
        and in the run's history (edits.jsonl), and marked on its charts."""
        old = self.cfg
        self.cfg = with_changes(old, changes, source)
        if self.cfg.epochs < self.epoch:
            raise ConfigError("epochs", f"the run has already trained {self.epoch} epochs")
        self.rule.cfg = self.cfg
        self.apply_hyperparameters()
        diff = {k: [getattr(old, k), v] for k, v in changes.items() if getattr(old, k) != v}
        if diff:
            self.edits.append({"epoch": self.epoch, "source": source, "changes": diff})
            self.run.save_config(self.cfg)
            self.write_edits()

    def write_edits(self) -> None:
        self.run.write_edits(self.edits)

    def take_snapshot(self) -> None:
        self.snapshot = clone_state(self.state())

    def save_snapshot(self) -> Optional[Path]:
        """Write the last good epoch's state if no checkpoint holds it yet."""
        if self.snapshot is None or self.snapshot["epoch"] <= self.saved_epoch or not self.lead:
            return None
        path = save_checkpoint(self.run.checkpoint_path(self.snapshot["epoch"]), self.snapshot)
        self.saved_epoch = self.snapshot["epoch"]
        return path

    # ---- one epoch -----------------------------------------------------------------------
    def train_epoch(self, cb: Callbacks, t_run: float) -> Optional[dict[str, Any]]:
        """One pass over the data. Returns the epoch's row, or None when stopped mid-epoch."""
        dev, B = self.device, self.cfg.batch_size
        n = len(self.data)
        steps = n // B  # the last partial batch is dropped: every step has the same shape
        perm = torch.randperm(n, device=dev)
        if self.data.streamed:  # the prefetcher gathers the epoch's batches ahead, in this order
            host = perm.cpu()  # one host sync an epoch
            self.data.begin_epoch([distributed.shard(host[i * B:(i + 1) * B]) for i in range(steps)])
        try:
            return self._steps(cb, t_run, perm, steps)
        finally:
            self.data.end_epoch()

    def _steps(self, cb: Callbacks, t_run: float, perm: torch.Tensor, steps: int) -> Optional[dict[str, Any]]:
        cfg, dev, B = self.cfg, self.device, self.cfg.batch_size
        total = cfg.epochs * steps
        self.rule.reset()
        for m in (self.G, self.D):
            if m is not None:
                m.train()
        self.stream.new_epoch()
        t0 = last_report = time.perf_counter()
        for i in range(steps):
            stop, over = distributed.halting(cb.should_stop(), self.deadline is not None and
                                             time.perf_counter() >= self.deadline, i, dev)
            if stop:
                return None
            if over:
                self.stop_reason = (f"its time budget of {cfg.time_budget:g} s ran out during epoch {self.epoch + 1}; "
                                    f"epoch {self.epoch} is its last")
                return None
            idx = distributed.shard(perm[i * B:(i + 1) * B])
            done = self.epoch * steps + i
            self.rule.train_step(*self.rule.batch(self.data, idx), i, done / total)
            now = time.perf_counter()
            if self.stream.due(now):
                self.stream.sample(self.rule, now, epoch=self.epoch + (i + 1) / steps, step=done + 1,
                                   elapsed_s=now - t_run)
                self.write_preview(now - t_run)
            if now - last_report >= PROGRESS_INTERVAL_S or i == steps - 1:
                last_report = now
                rate = (now - t_run) / max(1, done + 1 - self.start_step)
                cb.on_progress(TrainProgress(self.epoch + 1, cfg.epochs, i + 1, steps, now - t_run,
                                        rate * (total - done - 1)))
        world.average_([t for _, t, _ in self.rule.sum_groups()])  # a torchrun job's means are over all ranks
        means = self.rule.epoch_means()  # the one host sync of the epoch
        dt = time.perf_counter() - t0
        row = {"epoch": self.epoch + 1, **means,
               "images_per_sec": steps * B / dt, "epoch_time_s": dt, "elapsed_s": time.perf_counter() - t_run}
        check_numbers(means, f"epoch {self.epoch + 1}")
        return row

    # ---- live metrics --------------------------------------------------------------------
    def tensorboard_log(self) -> TensorBoardLogger:
        if self.tensorboard is None:
            self.tensorboard = TensorBoardLogger(self.run.path)
        return self.tensorboard

    def close(self) -> None:
        """Release what the run holds open (the TensorBoard writer's file and thread)."""
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None

    def sampler_handle(self) -> GeneratorHandle:
        """The network samples and metrics come from (the EMA copy when there is one)."""
        return GeneratorHandle(self.rule.sampler(), self.cfg.latent_dim, self.num_classes, self.conditional,
                               list(self.data.class_names), self.spec.kind, self.epoch, "training")

    def evaluate(self) -> dict[str, Any]:
        """FID and friends on N generated samples; returns the columns for this epoch's row.
        The pipeline draws from its own RNG, so runs with and without evaluation train identically."""
        cfg = self.cfg
        self.evaluate_untrained()
        with self.rng_untouched():
            res = evaluate_generator(self.sampler_handle(), self.data, extractor=cfg.extractor,
                                     n=min(cfg.eval_samples, len(self.data)),
                                     inception_weights=cfg.inception_weights, dataset_key=data_fields(cfg),
                                     device=self.device)
        note = res.details.get("extractor_note")
        if note and note not in self.notes:
            self.notes.append(note)
        self.evals.append({"epoch": self.epoch, **res.row, **res.details, "warnings": res.warnings})
        self.run.write_evals(self.evals)
        return res.row

    def beats_best(self, row: dict[str, Any]) -> bool:
        """An FID below the best so far and below the untrained generator's (same extractor and N):
        ckpt/best.pt never keeps a generator worse than where the run started."""
        fid = row.get("fid", math.nan)
        ceiling = ceiling_of(self.evals, row)
        return math.isfinite(fid) and fid < self.best_fid and (ceiling is None or fid < ceiling)

    def rng_untouched(self):
        """A block whose random draws (if any) leave the training RNG as it was: grids,
        previews and evaluations must never change what the run trains."""
        return torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else [])

    def evaluate_untrained(self) -> None:
        """The ceiling of the FID/KID charts: the untrained generator, recorded in evals.jsonl as
        epoch 0 (not a metrics row). Its weights are kept at the start and evaluated together with
        the first scheduled evaluation, so that the first minute's curves are not held up."""
        if self.untrained is None:
            return
        h = dataclasses.replace(self.sampler_handle(), G=self.untrained, epoch=0)
        self.untrained = None
        with self.rng_untouched():
            res = evaluate_generator(h, self.data, extractor=self.cfg.extractor,
                                     n=min(self.cfg.eval_samples, len(self.data)),
                                     inception_weights=self.cfg.inception_weights,
                                     dataset_key=data_fields(self.cfg), device=self.device)
        self.evals.insert(0, {"epoch": 0, "untrained": True, **res.row, **res.details, "warnings": res.warnings})

    @torch.no_grad()
    def write_preview(self, elapsed_s: float) -> None:
        """The fixed-noise grid every few seconds of the first minute, so a new user watches
        digits form before the first epoch ends."""
        if elapsed_s >= PREVIEW_WINDOW_S or elapsed_s - self.last_preview < PREVIEW_EVERY_S or not self.lead:
            return
        self.last_preview = elapsed_s
        with self.sampler_for_grids() as G:
            images, cols = self.rule.grid(self.data, G, self.fixed_z, self.fixed_labels, self.grid_cols)
            save_grid(images, self.run.preview_path, nrow=cols)

    @torch.no_grad()
    def write_grid(self) -> Path:
        """The fixed-noise grid (from the EMA generator when there is one) and the rule's extra
        grids (a VAE's reconstructions)."""
        with self.sampler_for_grids() as G:
            images, cols = self.rule.grid(self.data, G, self.fixed_z, self.fixed_labels, self.grid_cols)
            path = save_grid(images, self.run.sample_path(self.epoch), nrow=cols)
            for name, (extra, extra_cols) in self.rule.extra_grids(self.data, G).items():
                save_grid(extra, self.run.grid_path(name, self.epoch), nrow=extra_cols)
        return path

    @contextlib.contextmanager
    def sampler_for_grids(self):
        """The sampling generator in eval mode, the training RNG untouched, its mode restored after."""
        G = self.rule.sampler()
        was_training = G.training
        G.eval()
        try:
            with self.rng_untouched():
                yield G
        finally:
            G.train(was_training)

    # ---- the bare loop, for benchmarks ---------------------------------------------------
    def train_steps(self, n: int) -> None:
        """`n` training steps on the data's first batches (in order, wrapping around), with no
        epoch bookkeeping: a benchmark's untimed warm-up."""
        B = self.cfg.batch_size
        for m in (self.G, self.D):
            if m is not None:
                m.train()
        for i in range(n):
            idx = torch.arange(i * B, (i + 1) * B, device=self.device) % len(self.data)
            self.rule.train_step(*self.rule.batch(self.data, distributed.shard(idx)), i, 0.0)

    def run_epochs(self, n: int = 1, cb: Optional[Callbacks] = None) -> list[dict[str, Any]]:
        """Train `n` epochs and return their rows: the loop `fit` runs, without evaluation,
        grids, checkpoints or status (what a speed benchmark times). Stops early, with the rows
        so far, when `cb.should_stop()` says so."""
        cb = cb or Callbacks()
        t_run = time.perf_counter()
        self.start_step = self.epoch * (len(self.data) // self.cfg.batch_size)
        rows = []
        for _ in range(n):
            row = self.train_epoch(cb, t_run)
            if row is None:
                break
            self.epoch += 1
            rows.append(row)
        return rows

    # ---- the run -------------------------------------------------------------------------
    def fit(self, cb: Callbacks) -> str:
        cfg = self.cfg
        t_run = time.perf_counter()
        self.deadline = t_run + cfg.time_budget if cfg.time_budget > 0 else None
        self.stream.on_row = cb.on_stream
        self.start_step = self.epoch * (len(self.data) // cfg.batch_size)
        if self.epoch == 0 and not self.run.samples() and self.lead:
            self.write_grid()  # epoch 0: what the untrained generator draws
        if self.epoch == 0 and cfg.eval_every and not self.evals:
            self.untrained = copy.deepcopy(self.rule.sampler()).eval()  # evaluated at the first evaluation
        while self.epoch < self.cfg.epochs:
            edits = cb.pending_edits()
            if edits:
                self.apply_edits(edits)
                cfg = self.cfg
                if self.epoch >= cfg.epochs:
                    break
            row = self.train_epoch(cb, t_run)
            if row is None and self.stop_reason:
                self.notes.append(f"Completed early: {self.stop_reason}.")
                return "completed"
            if row is None:
                return "stopped"
            self.epoch += 1
            last = self.epoch == cfg.epochs
            improved = False
            if cfg.eval_every and (self.epoch % cfg.eval_every == 0 or last):
                row.update(self.evaluate())
                improved = self.beats_best(row)
                if improved:
                    self.best_fid, self.evals_since_best = row["fid"], 0
                elif math.isfinite(row.get("fid", math.nan)):  # no FID (no extractor fits): nothing to wait for
                    self.evals_since_best += 1
            self.rows.append(row)
            self.run.write_metrics(self.rows)
            if cfg.tensorboard:
                self.tensorboard_log().log_row(row)
            if (self.epoch % cfg.sample_every == 0 or last) and self.lead:
                self.write_grid()
            self.take_snapshot()
            if self.epoch % cfg.checkpoint_every == 0 or last:
                self.save_snapshot()
            if improved and self.lead:
                save_checkpoint(self.run.best_checkpoint_path(), self.snapshot)
            self.run.write_status(state="running", epoch=self.epoch, epochs=cfg.epochs, notes=self.notes,
                                  best_fid=None if math.isinf(self.best_fid) else self.best_fid)
            cb.on_epoch(row)
            if cfg.early_stop and self.evals_since_best >= cfg.early_stop and not last:
                self.save_snapshot()
                self.notes.append(f"Early stop at epoch {self.epoch}: FID has not improved for "
                                  f"{cfg.early_stop} evaluations (best {self.best_fid:.2f}).")
                return "completed"
        return "completed"

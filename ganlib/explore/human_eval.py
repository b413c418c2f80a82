"""Real or fake? A human evaluation of a generator in the spirit of HYPE (Zhou et al. 2019).

    from ganlib.explore import human_eval as he
    batch = he.make_batch(run, checkpoint="epoch_0020.pt", n=50)   # all images made up front
    he.record_answer(run, batch, 0, "fake")                         # one line in human_eval.jsonl
    he.error_rate(he.load_answers(run))                             # HYPE-infinity with a 95% interval

A person sees real images (the run's own training images, converted as training saw them) and
generated ones (from one checkpoint) in random order, one at a time, and answers "real" or
"fake". HYPE-infinity is the person's error rate: 0.5 means the generator fools people as often
as chance, 0 means every fake is spotted. The interval is the Wilson score interval, which stays
inside [0, 1] and behaves at 0 or n errors, unlike the normal approximation.

The whole batch is generated and encoded when a round starts, so an answer costs no model call.
Every answer is appended as one JSON line to `<run>/human_eval.jsonl`, so the history survives
sessions, server restarts and several people judging at once.
"""
from __future__ import annotations

import io
import json
import math
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue
from ganlib.core.images import to_uint8
from ganlib.data import cached_run_data
from ganlib.explore import sampling
from ganlib.models.handle import GeneratorHandle
from ganlib.store.checkpoints import find_checkpoint
from ganlib.store.run_folder import Run, find_run

KINDS = ("real", "fake")
Z95 = 1.959963984540054  # the standard normal quantile of 0.975


# ---- statistics ---------------------------------------------------------------------------
def wilson_interval(errors: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `errors / n`; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= errors <= n:
        raise BadValue(f"errors must be between 0 and n={n}, got {errors}")
    p = errors / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ErrorRate:
    errors: int
    n: int

    @property
    def rate(self) -> float:
        return self.errors / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.errors, self.n)

    def __str__(self) -> str:
        if not self.n:
            return "no answers"
        lo, hi = self.interval
        return f"{self.rate:.1%} (95% CI {lo:.1%}–{hi:.1%}, {self.errors}/{self.n})"


def error_rate(answers: Iterable[dict[str, Any]]) -> ErrorRate:
    """HYPE-infinity: the share of wrong answers over real and fake images together."""
    answers = list(answers)
    return ErrorRate(sum(1 for a in answers if not a["correct"]), len(answers))


def summary_rows(answers: Iterable[dict[str, Any]], by: str = "checkpoint") -> list[dict[str, Any]]:
    """One table row per value of `by` (checkpoint or session), then an `all` row.

    Columns: answers, error rate with its interval, and the two halves HYPE reports apart:
    fakes taken for real (how often the generator fools) and reals taken for fake."""
    answers = list(answers)
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for a in answers:
        groups[_group(a, by)].append(a)
    order = sorted(groups, key=lambda g: min(a["time"] for a in groups[g]))
    rows = [_row(str(g), groups[g]) for g in order]
    if len(groups) > 1:
        rows.append(_row("all", answers))
    return rows


def _group(answer: dict[str, Any], by: str) -> Any:
    """A checkpoint judged at another sampler setting is another generator: its own row."""
    if by == "checkpoint" and answer.get("sampler"):
        return f"{answer.get('checkpoint')} ({answer['sampler']})"
    return answer.get(by)


def _row(name: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    er = error_rate(answers)
    lo, hi = er.interval
    fakes = [a for a in answers if a["kind"] == "fake"]
    reals = [a for a in answers if a["kind"] == "real"]
    epochs = sorted({a.get("epoch") for a in answers if a.get("epoch") is not None})
    ckpts = sorted({str(a.get("checkpoint")) for a in answers})
    return {
        "group": name,
        "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(min(a["time"] for a in answers))),
        "checkpoint": ckpts[0] if len(ckpts) == 1 else "several",
        "epoch": epochs[0] if len(epochs) == 1 else None,
        "answers": er.n,
        "error_rate": er.rate,
        "ci_low": lo,
        "ci_high": hi,
        "fakes_judged_real": error_rate(fakes).rate if fakes else None,
        "reals_judged_fake": error_rate(reals).rate if reals else None,
    }


# ---- the answers file ---------------------------------------------------------------------
def append_answer(run: Run, record: dict[str, Any]) -> None:
    """One JSON line, appended in a single write: lines from several sessions never interleave."""
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(run.human_eval_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def load_answers(run: Run) -> list[dict[str, Any]]:
    """Every answer ever given for this run; a torn or foreign line is skipped, not fatal."""
    try:
        text = run.human_eval_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("kind") in KINDS and isinstance(rec.get("correct"), bool) \
                and isinstance(rec.get("time"), (int, float)):
            out.append(rec)
    return out


# ---- a round of images ----------------------------------------------------------------------
@dataclass
class Item:
    kind: str  # "real" or "fake"
    png: bytes  # upscaled, ready to show
    label: Optional[int] = None  # the class of a real image or of a conditional fake


@dataclass
class Batch:
    run: str  # the run's folder name
    checkpoint: str  # the checkpoint's file name, e.g. epoch_0020.pt
    epoch: int
    seed: int
    items: list[Item]
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.time)
    sampler: str = ""  # a diffusion run's sampler, e.g. "20 steps, guidance 2"; "" for a one-pass model

    def __len__(self) -> int:
        return len(self.items)


def make_batch(run: str | Path | Run, checkpoint: str | Path | None = None, n: int = 50, *,
               seed: Optional[int] = None, real_fraction: float = 0.5, size: int = 256,
               device: str = "cpu", steps: Optional[int] = None, guidance: Optional[float] = None) -> Batch:
    """`n` images, half real and half generated (shuffled), each upscaled with NEAREST to about
    `size` pixels so that single pixels stay visible. All model calls happen here. `steps` and
    `guidance` set a diffusion run's sampler; the answers are then kept apart from those given to
    the same checkpoint at other settings (they judge different images)."""
    run = run if isinstance(run, Run) else find_run(run)
    if not 2 <= n <= 1000:
        raise BadValue(f"a round holds between 2 and 1000 images, got {n}")
    if not 0.0 <= real_fraction <= 1.0:
        raise BadValue(f"real_fraction must be in [0, 1], got {real_fraction}")
    seed = sampling.random_seed() if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    n_real = int(round(n * real_fraction))
    n_fake = n - n_real
    ck_path = find_checkpoint(run, checkpoint)
    h = sampling.with_sampler(sampling.get_generator(run, ck_path, device), steps, guidance)

    total = dataset_size(run)
    if n_real > total:
        raise BadValue(f"the run's dataset has {total} images; a round needs {n_real} real ones")
    pick = rng.choice(total, size=n_real, replace=False)
    real, real_labels = real_images(run, pick)
    items = [Item("real", _png(real[i], size), None if real_labels is None else int(real_labels[i]))
             for i in range(n_real)]
    if n_fake:
        labels = rng.integers(0, h.num_classes, n_fake).tolist() if h.conditional else None
        fake = sampling.generate(run, n_fake, seed=seed, labels=labels, checkpoint=ck_path, device=device,
                                 steps=steps, guidance=guidance)
        items += [Item("fake", _png(fake.images[i], size), None if labels is None else int(labels[i]))
                  for i in range(n_fake)]
    order = rng.permutation(len(items))
    return Batch(run.name, ck_path.name, h.epoch, seed, [items[i] for i in order], sampler=sampler_text(h))


def sampler_text(h: GeneratorHandle) -> str:
    """How a handle draws ("20 steps, guidance 2"); "" for a model that draws in one pass."""
    s = h.sampler_settings()
    return f"{int(s['steps'])} steps, guidance {float(s['guidance']):g}" if s else ""


def dataset_size(run: Run) -> int:
    """How many images the run trained on (its dataset, cut to `max_images`)."""
    return len(cached_run_data(run.config()))


def real_images(run: Run, indices: Sequence[int]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Training images `indices` of the run as uint8 (N, C, H, W), exactly as it trained on them."""
    data = cached_run_data(run.config())
    idx = torch.as_tensor(np.asarray(indices, dtype=np.int64), device=data.images.device)
    labels = data.labels[idx].cpu().numpy() if data.labels is not None else None
    return to_uint8(data.images[idx]), labels


def _png(chw: np.ndarray, size: int) -> bytes:
    arr = chw[0] if chw.shape[0] == 1 else np.transpose(chw, (1, 2, 0))
    im = Image.fromarray(np.ascontiguousarray(arr))
    k = max(1, size // max(im.width, im.height))
    if k > 1:
        im = im.resize((im.width * k, im.height * k), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def record_answer(run: str | Path | Run, batch: Batch, index: int, answer: str,
                  *, t: Optional[float] = None) -> dict[str, Any]:
    """Save one answer (`real` or `fake`) to image `index` of `batch`; returns the record."""
    run = run if isinstance(run, Run) else find_run(run)
    answer = answer.lower()
    if answer not in KINDS:
        raise BadValue(f"answer must be 'real' or 'fake', got {answer!r}")
    item = batch.items[index]
    rec = {"time": time.time() if t is None else t, "session": batch.session, "checkpoint": batch.checkpoint,
           "epoch": batch.epoch, "index": index, "kind": item.kind, "answer": answer,
           "correct": answer == item.kind}
    if batch.sampler:
        rec["sampler"] = batch.sampler
    append_answer(run, rec)
    return rec

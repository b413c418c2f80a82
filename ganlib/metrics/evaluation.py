"""The one evaluation: the engine (live, every K epochs), the Evaluate page, the latent
explorer's truncation curve, the benchmarks and the CLI all call `evaluate_generator`.

It picks the extractor (`auto`: the shipped digit classifier for grayscale data, Inception for
colour, falling back to the digits with a note when the Inception weights cannot be had), loads
it once per process, takes the real statistics from the cache and runs every metric of the
data's family in `metric_registry.METRICS` (`score_images`, `score_translation`). Building an
extractor never touches the global RNG (a random init before the weights load would shift a
training run's stream).

Generated images are drawn from a fixed seed of their own, so two evaluations of one run differ
only by the generator, and the training RNG is never touched. Every result row names its
extractor and its N.
"""
from __future__ import annotations

import time
import warnings
from functools import lru_cache
from typing import Any, Callable, Optional

import torch

from ganlib.core import distributed
from ganlib.data import ImageData
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor
from ganlib.metrics.checks import require_finite
from ganlib.metrics.extractor_inception import find_inception_weights
from ganlib.metrics.frechet import fid_from_features, sample_size_warning
from ganlib.metrics.image_metrics import ImageInputs
from ganlib.metrics.metric_registry import EvalResult, compute_all
from ganlib.metrics.reference import RealReference, extractor_label, real_reference
from ganlib.metrics.translation import TranslationInputs, translate
from ganlib.models.handle import GeneratorHandle

EVAL_SEED = 20_240_101
DEFAULT_N = 10_000  # generated samples when none are asked for (capped at the data size)
Progress = Callable[[float, str], None]  # (fraction done, what is happening)



@torch.no_grad()
def generated_features(handle: GeneratorHandle, extractor: FeatureExtractor, n: int, *, device=None,
                       seed: int = EVAL_SEED, chunk: int = 500
                       ) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Features, logits and requested labels of `n` samples, generated and embedded chunk by
    chunk on the device (no host round trip). Conditional samples cycle through the classes.
    In a torchrun job the ranks embed the chunks round-robin and gather them: every rank still
    draws every chunk's noise, so the samples, and the metrics, do not depend on the world size."""
    device = torch.device(device) if device is not None else handle.device
    gen = torch.Generator(device=device).manual_seed(seed)
    feats, logits, labels, sizes = [], [], [], []
    for k, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        sizes.append(m)
        z = torch.randn(m, handle.latent_dim, device=device, generator=gen)
        y = (torch.arange(start, start + m, device=device) % handle.num_classes) if handle.conditional else None
        if y is not None:
            labels.append(y)
        if not distributed.mine(k):
            continue
        f, lg = extractor.features_and_logits(handle.decode(z, y))
        feats.append(f.float())
        if lg is not None:
            logits.append(lg.float())
    if distributed.active():
        has_logits = distributed.any_rank(bool(logits), device)
        feats = [distributed.gather_chunks(feats, sizes, device)]
        logits = [distributed.gather_chunks(logits, sizes, device)] if has_logits else []
    return (torch.cat(feats), torch.cat(logits) if logits else None, torch.cat(labels) if labels else None)


def score_images(handle: GeneratorHandle, ref: RealReference, extractor: FeatureExtractor, *, n: int, device=None,
                 n_boot: int = 10, kid_subsets: int = 100, seed: int = EVAL_SEED) -> EvalResult:
    """Every image metric of `metric_registry` for `n` samples of `handle` against `ref`, plus
    the per-class FID of a conditional model (a detail, not a column)."""
    t0 = time.perf_counter()
    notes: list[str] = []
    gf, logits, req = generated_features(handle, extractor, n, device=device, seed=seed)
    warn = sample_size_warning(n, extractor.feature_dim)
    if warn:
        notes.append(warn)
    inputs = ImageInputs(gf, logits, req, ref, extractor, handle.num_classes, n_boot=n_boot, kid_subsets=kid_subsets)
    row: dict[str, Any] = compute_all("image", inputs)
    row.update(eval_n=n, extractor=extractor_label(extractor))
    details = inputs.details
    if ref.floor is not None and ref.floor.note:
        notes.append(ref.floor.note)
    if handle.conditional and req is not None and ref.labels is not None:
        details["fid_per_class"] = _fid_per_class(gf, req, ref, handle.num_classes)
        per_n = min(int((req == 0).sum()), int((ref.labels == 0).sum()))
        if per_n < extractor.feature_dim:
            notes.append(f"per-class FID uses about {per_n} samples per class for {extractor.feature_dim}-d "
                         "features: compare classes with each other, not with the overall FID")
    row["eval_time_s"] = time.perf_counter() - t0
    return EvalResult(row, details, notes)


def _fid_per_class(gf: torch.Tensor, req: torch.Tensor, ref: RealReference, num_classes: int) -> list[float]:
    per = []
    with warnings.catch_warnings():  # one note says it, instead of a warning per class
        warnings.simplefilter("ignore")
        for c in range(num_classes):
            g, r = gf[req == c], ref.feats[ref.labels == c]
            per.append(fid_from_features(r, g) if min(len(g), len(r)) > 1 else float("nan"))
    return per


def score_translation(handle: GeneratorHandle, data: ImageData, extractor: FeatureExtractor, *,
                      classifier: Optional[FeatureExtractor] = None, n: Optional[int] = None) -> EvalResult:
    """Every translation metric of `metric_registry` for `handle.G` (source -> target) on
    `data.held_out` (the training split when there is none), at most `n` examples."""
    t0 = time.perf_counter()
    split = data.held_out if data.held_out is not None else data
    notes = [] if data.held_out is not None else ["the data has no held-out split: measured on training images"]
    k = min(split.source.shape[0], len(split)) if split.paired else split.source.shape[0]
    k = min(k, int(n)) if n else k
    a = split.source[:k]
    out = require_finite(translate(handle.G, a), "translated images")
    if not split.paired:
        notes.append("the held-out split has no pairs: no L1, PSNR or SSIM against a target")
    target = split.images[:k] if split.paired else split.images
    labels = split.source_labels[:k] if split.source_labels is not None else None
    back = translate(handle.G, out, back=True) if hasattr(handle.G, "back") else None
    inputs = TranslationInputs(a, out, target, split.paired, extractor, classifier, labels, back)
    row: dict[str, Any] = compute_all("translation", inputs)
    row.update(eval_n=k, extractor=extractor_label(extractor), eval_time_s=time.perf_counter() - t0)
    return EvalResult(row, {"translation": True, "target_n": len(target)}, notes)


def resolve_extractor(name: str, channels: int, weights: str = "") -> tuple[str, str]:
    """`auto` means the digit classifier for grayscale data and Inception for colour. If the
    Inception weights cannot be had, fall back to the digit classifier and say how to get them."""
    if name == "auto":
        name = "digits" if channels == 1 else "inception"
    FEATURE_EXTRACTORS.get(name)  # unknown names fail here with the list of known ones
    if name == "inception":
        try:
            find_inception_weights(weights or None)  # finds (or downloads) the file; builds nothing
        except ExtractorUnavailable as e:
            return "digits", f"{e} Using the digit classifier ('digits') meanwhile."
    return name, ""


@lru_cache(maxsize=4)
def get_extractor(name: str, device: str = "cpu", weights: str = "") -> FeatureExtractor:
    """One loaded extractor per (name, device, weights) per process: never rebuilt per call
    (seed 000 rebuilt Inception at every epoch)."""
    factory = FEATURE_EXTRACTORS.get(name)
    dev = torch.device(device)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):  # the init's draws stay local
        ext = factory(device=device, weights=weights or None)
    ext.eval()
    return ext


def evaluate_generator(handle: GeneratorHandle, data: ImageData, *, extractor: str = "auto",
                       n: Optional[int] = None, inception_weights: str = "",
                       dataset_key: Optional[dict[str, Any]] = None, device: Any = None, n_boot: int = 10,
                       kid_subsets: int = 100, progress: Optional[Progress] = None) -> EvalResult:
    """The metric table of `handle`'s samples against `data` -> EvalResult(row, details, warnings).

    N defaults to the data size (at most 10,000) and is capped by it, with a warning; an
    extractor fallback is explained in `details["extractor_note"]` (empty when none). The row's
    `fid_floor` / `kid_floor` are real vs real at the same N (the next N images against the
    first N; two halves, with a warning and `details["floor_n"]`, when the data holds fewer
    than 2N). With `dataset_key` (`ganlib.data.data_fields` of the run's config) the real
    statistics and the floor come from the shared cache."""
    say = progress or (lambda f, t: None)
    device = torch.device(device) if device is not None else data.device
    if data.source is not None:  # translation data: its outputs against targets, beside the copy baseline
        name, note = resolve_extractor(extractor, data.channels, inception_weights)
        ext = get_extractor(name, str(device), inception_weights if name == "inception" else "")
        digits = get_extractor("digits", str(device)) if data.num_classes == 10 else None
        say(0.5, "Translating the held-out images")
        res = score_translation(handle, data, ext, classifier=digits, n=n)
        res.details["extractor_note"] = note
        return res
    notes: list[str] = []
    want = min(DEFAULT_N, len(data)) if n is None else int(n)
    if want > len(data):
        notes.append(f"N = {want:,} asked for, but the run's data holds {len(data):,} images: using N = {len(data):,}.")
    n = max(2, min(want, len(data)))
    name, note = resolve_extractor(extractor, data.channels, inception_weights)
    say(0.3, f"Loading the {name} extractor")
    ext = get_extractor(name, str(device), inception_weights if name == "inception" else "")
    say(0.45, f"Real reference and its real-vs-real floor: {n:,} images (cached on disk after the first time)")
    real = data.first(2 * n)  # the reference's N and the floor's next N, not a float copy of all the data
    labels = data.labels[:2 * n] if data.labels is not None else None
    ref = real_reference(real, labels, ext, n, dataset_key=dataset_key, floor=True)
    say(0.6, f"Generating and embedding {n:,} samples")
    res = score_images(handle, ref, ext, n=n, device=device, n_boot=n_boot, kid_subsets=kid_subsets)
    res.warnings[:0] = notes
    res.details["extractor_note"] = note
    return res

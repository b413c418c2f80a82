"""The one evaluation: the engine (live, every K epochs), the Evaluate page, the latent
explorer's truncation curve, the benchmarks and the CLI all call `evaluate_generator`.

It picks the extractor that fits the data, or none (`extractor_choice.choose_extractor`: the
digit CNN for digits, the emoji CNN for emoji, Inception for the rest when its weights are
there), loads it once per process, takes the real statistics from the cache and runs every
metric of the data's family in `metric_registry.METRICS` (`score_images`, `score_translation`),
and always the metrics that need no extractor (`score_pixels`: how spread out the samples are).
With no extractor the row has only those, and `details["extractor_note"]` says why and what
would give the rest.

Generated images are drawn from a fixed seed of their own, so two evaluations of one run differ
only by the generator, and the training RNG is never touched. Every result row names its
extractor and its N.
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Optional

import torch

from ganlib.core import distributed
from ganlib.data import ImageData
from ganlib.metrics import FeatureExtractor
from ganlib.metrics.checks import require_finite
from ganlib.metrics.extractor_choice import ExtractorChoice, choose_extractor, classifies, get_extractor
from ganlib.metrics.frechet import fid_from_features, sample_size_warning
from ganlib.metrics.image_metrics import ImageInputs
from ganlib.metrics.metric_registry import EvalResult, blank_row, compute_all
from ganlib.metrics.pixel_spread import N as PIXEL_N
from ganlib.metrics.pixel_spread import PixelInputs, shrink
from ganlib.metrics.reference import RealReference, extractor_label, real_reference
from ganlib.metrics.translation import TranslationInputs, translate
from ganlib.models.handle import GeneratorHandle

NO_EXTRACTOR = "none"  # the `extractor` cell of an evaluation without feature metrics

EVAL_SEED = 20_240_101
DEFAULT_N = 10_000  # generated samples when none are asked for (capped at the data size)
Progress = Callable[[float, str], None]  # (fraction done, what is happening)


@torch.no_grad()
def generated_features(handle: GeneratorHandle, extractor: FeatureExtractor, n: int, *, device=None,
                       seed: int = EVAL_SEED, chunk: int = 500, pixels: Optional[list] = None
                       ) -> tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Features, logits and requested labels of `n` samples, generated and embedded chunk by
    chunk on the device (no host round trip). Conditional samples cycle through the classes.
    In a torchrun job the ranks embed the chunks round-robin and gather them: every rank still
    draws every chunk's noise, so the samples, and the metrics, do not depend on the world size.
    With `pixels` (a list), the first chunk's samples, shrunk (`pixel_spread.shrink`), go into it."""
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
        if not distributed.mine(k) and not (k == 0 and pixels is not None):
            continue
        images = handle.decode(z, y)
        if k == 0 and pixels is not None:
            pixels.append(shrink(images[:PIXEL_N]))
        if not distributed.mine(k):
            continue
        f, lg = extractor.features_and_logits(images)
        feats.append(f.float())
        if lg is not None:
            logits.append(lg.float())
    if distributed.active():
        has_logits = distributed.any_rank(bool(logits), device)
        feats = [distributed.gather_chunks(feats, sizes, device)]
        logits = [distributed.gather_chunks(logits, sizes, device)] if has_logits else []
    return (torch.cat(feats), torch.cat(logits) if logits else None, torch.cat(labels) if labels else None)


def score_images(handle: GeneratorHandle, ref: RealReference, extractor: FeatureExtractor, *, n: int, device=None,
                 n_boot: int = 10, kid_subsets: int = 100, seed: int = EVAL_SEED,
                 real_pixels: Optional[torch.Tensor] = None) -> EvalResult:
    """Every image metric of `metric_registry` for `n` samples of `handle` against `ref`, plus
    the per-class FID of a conditional model (a detail, not a column); with `real_pixels`
    (`pixel_spread.shrink` of real images), the metrics that need no extractor too."""
    t0 = time.perf_counter()
    notes: list[str] = []
    pixels: list[torch.Tensor] = []
    gf, logits, req = generated_features(handle, extractor, n, device=device, seed=seed,
                                         pixels=pixels if real_pixels is not None else None)
    warn = sample_size_warning(n, extractor.feature_dim)
    if warn:
        notes.append(warn)
    inputs = ImageInputs(gf, logits, req, ref, extractor, handle.num_classes, n_boot=n_boot, kid_subsets=kid_subsets,
                         class_names=list(handle.class_names))
    row: dict[str, Any] = compute_all("image", inputs)
    if pixels:
        row.update(compute_all("pixels", PixelInputs(pixels[0], real_pixels)))
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


@torch.no_grad()
def score_pixels(handle: GeneratorHandle, real_pixels: torch.Tensor, *, device=None,
                 seed: int = EVAL_SEED) -> EvalResult:
    """The metrics that need no extractor, alone: the row of an evaluation no extractor fits
    (every feature metric NaN, `extractor` "none"). The samples are the first of `score_images`'s."""
    t0 = time.perf_counter()
    device = torch.device(device) if device is not None else handle.device
    gen = torch.Generator(device=device).manual_seed(seed)
    m = min(PIXEL_N, len(real_pixels))
    z = torch.randn(m, handle.latent_dim, device=device, generator=gen)
    y = (torch.arange(m, device=device) % handle.num_classes) if handle.conditional else None
    row: dict[str, Any] = {**blank_row("image"), **compute_all("pixels", PixelInputs(shrink(handle.decode(z, y)),
                                                                                     real_pixels))}
    row.update(eval_n=m, extractor=NO_EXTRACTOR, eval_time_s=time.perf_counter() - t0)
    return EvalResult(row, {}, [])


def _fid_per_class(gf: torch.Tensor, req: torch.Tensor, ref: RealReference, num_classes: int) -> list[float]:
    per = []
    with warnings.catch_warnings():  # one note says it, instead of a warning per class
        warnings.simplefilter("ignore")
        for c in range(num_classes):
            g, r = gf[req == c], ref.feats[ref.labels == c]
            per.append(fid_from_features(r, g) if min(len(g), len(r)) > 1 else float("nan"))
    return per


def score_translation(handle: GeneratorHandle, data: ImageData, extractor: Optional[FeatureExtractor], *,
                      classifier: Optional[FeatureExtractor] = None, n: Optional[int] = None) -> EvalResult:
    """Every translation metric of `metric_registry` for `handle.G` (source -> target) on
    `data.held_out` (the training split when there is none), at most `n` examples; without an
    extractor, no FID."""
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
    row.update(eval_n=k, extractor=extractor_label(extractor) if extractor is not None else NO_EXTRACTOR,
               eval_time_s=time.perf_counter() - t0)
    return EvalResult(row, {"translation": True, "target_n": len(target)}, notes)


def spread_images(data: ImageData, n: int) -> torch.Tensor:
    """Up to `n` real images spread evenly over the data (a probe's view of a folder sorted by class)."""
    idx = torch.linspace(0, len(data) - 1, min(n, len(data))).round().long().unique()
    return data.batch(idx.to(data.device) if not data.streamed else idx)


def pick_extractor(data: ImageData, requested: str, weights: str = "", device: Any = "cpu",
                   dataset_key: Optional[dict[str, Any]] = None) -> ExtractorChoice:
    """`extractor_choice.choose_extractor` for a run's data (a probe looks at its real images)."""
    return choose_extractor(requested, data.name, images=lambda k: spread_images(data, k), weights=weights,
                            device=device, cache_key=dataset_key)


def _loaded(choice: ExtractorChoice, device: Any, weights: str) -> Optional[FeatureExtractor]:
    if choice.name is None:
        return None
    return get_extractor(choice.name, str(device), weights if choice.name == "inception" else "")


def evaluate_generator(handle: GeneratorHandle, data: ImageData, *, extractor: str = "auto",
                       n: Optional[int] = None, inception_weights: str = "",
                       dataset_key: Optional[dict[str, Any]] = None, device: Any = None, n_boot: int = 10,
                       kid_subsets: int = 100, progress: Optional[Progress] = None) -> EvalResult:
    """The metric table of `handle`'s samples against `data` -> EvalResult(row, details, warnings).

    N defaults to the data size (at most 10,000) and is capped by it, with a warning. Why this
    extractor judged is `details["extractor_why"]`; `details["extractor_note"]` is what a person
    must read (why none did and how to get one, or why the one asked for does not fit), else "". The
    row's `fid_floor` / `kid_floor` are real vs real at the same N (the next N images against
    the first N; two halves, with a warning and `details["floor_n"]`, when the data holds fewer
    than 2N). With `dataset_key` (`ganlib.data.data_fields` of the run's config) the real
    statistics and the floor come from the shared cache."""
    say = progress or (lambda f, t: None)
    device = torch.device(device) if device is not None else data.device
    choice = pick_extractor(data, extractor, inception_weights, device, dataset_key)
    ext = _loaded(choice, device, inception_weights)
    if data.source is not None:  # translation data: its outputs against targets, beside the copy baseline
        digits = get_extractor("digits", str(device)) if classifies("digits", data.class_names) else None
        say(0.5, "Translating the held-out images")
        res = score_translation(handle, data, ext, classifier=digits, n=n)
        res.details.update(extractor_note=choice.warning, extractor_why=choice.note)
        return res
    notes: list[str] = []
    want = min(DEFAULT_N, len(data)) if n is None else int(n)
    if want > len(data):
        notes.append(f"N = {want:,} asked for, but the run's data holds {len(data):,} images: using N = {len(data):,}.")
    n = max(2, min(want, len(data)))
    real_pixels = shrink(data.first(min(PIXEL_N, len(data))))
    if ext is None:
        say(0.6, f"No extractor fits the data: comparing {min(PIXEL_N, n)} samples with the real images in pixels")
        res = score_pixels(handle, real_pixels, device=device)
    else:
        say(0.3, f"Loading the {choice.name} extractor")
        say(0.45, f"Real reference and its real-vs-real floor: {n:,} images (cached on disk after the first time)")
        real = data.first(2 * n)  # the reference's N and the floor's next N, not a float copy of all the data
        labels = data.labels[:2 * n] if data.labels is not None else None
        ref = real_reference(real, labels, ext, n, dataset_key=dataset_key, floor=True)
        say(0.6, f"Generating and embedding {n:,} samples")
        res = score_images(handle, ref, ext, n=n, device=device, n_boot=n_boot, kid_subsets=kid_subsets,
                           real_pixels=real_pixels)
    res.warnings[:0] = notes
    res.details.update(extractor_note=choice.warning, extractor_why=choice.note)
    return res

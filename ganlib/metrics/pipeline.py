"""The one evaluation pipeline: the engine (live, every K epochs), the Evaluate page, the
latent explorer's truncation curve, the benchmarks and the CLI all call `evaluate_generator`.

It picks the extractor (`auto`: the shipped digit classifier for grayscale data, Inception for
colour, falling back to the digits with a note when the Inception weights cannot be had), loads
it once per process, takes the real statistics from the cache and evaluates. Building an
extractor never touches the global RNG (a random init before the weights load would shift a
training run's stream).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Optional

import torch

from ganlib.data import ImageData
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor
from ganlib.metrics.evaluate import EvalResult, evaluate
from ganlib.metrics.extractor_inception import find_inception_weights
from ganlib.metrics.reference import real_reference
from ganlib.metrics.translation import evaluate_translation
from ganlib.models.handle import GeneratorHandle

DEFAULT_N = 10_000  # generated samples when none are asked for (capped at the data size)
Progress = Callable[[float, str], None]  # (fraction done, what is happening)


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
        res = evaluate_translation(handle, data, ext, classifier=digits, n=n)
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
    res = evaluate(handle, ref, ext, n=n, device=device, n_boot=n_boot, kid_subsets=kid_subsets)
    res.warnings[:0] = notes
    res.details["extractor_note"] = note
    return res

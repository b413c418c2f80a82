"""Where a dataset's image files come from: a folder, or a zip (read within `core.bounded_zip`'s
bounds). Both list their files with a class each, say what identifies their content (names,
sizes, modification times: the pack cache's key) and open one file for the reader.

    src = open_source(Path("icons"))           # a folder (class subfolders) or a .zip
    src.entries[0].name, src.entries[0].label  # "cats/0.png", 0
    with src.reader() as read: data = read(src.entries[0])   # a file object for read_image

Layouts. A folder: files directly in it (no labels), or one subfolder per class (files at the top
are then left out, and said so). A zip: stylegan2-ada's `dataset_tool.py` layout (images anywhere
plus `dataset.json`, whose `labels` lists [name, class] pairs or is null), or, without
`dataset.json`, class subfolders (a single top folder, as a zipped folder has, is looked through).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, Optional

from ganlib.core.bounded_zip import UnsafeZip, ZipLimits, checked_members, open_zip, read_member
from ganlib.core.errors import BadValue

# A zip of training images may be large, but each member is one image and the count is bounded.
ZIP_LIMITS = ZipLimits(max_members=2_000_000, max_member_bytes=256 << 20, max_total_bytes=512 << 30)
LABELS_FILE = "dataset.json"


class SourceError(BadValue):
    """The path cannot be a dataset (missing, a plain file, an unsafe zip); one line says why."""


@dataclass(frozen=True)
class Entry:
    name: str  # path relative to the folder, or the zip member's name
    label: Optional[int]
    size: int  # bytes on disk (in the zip: unpacked)
    stamp: int  # modification time in ns (zip members: their CRC, which changes with the content)


@dataclass
class ImageSource:
    path: Path
    kind: str  # "folder" or "zip"
    entries: list[Entry]
    class_names: list[str]
    left_out: list[str] = field(default_factory=list)  # "name: why" of files that are not candidates

    @property
    def labelled(self) -> bool:
        return bool(self.class_names)

    def fingerprint(self) -> str:
        """Changes when a file is added, removed, renamed, resized or touched."""
        h = hashlib.sha256(f"{self.kind}\n".encode())
        for e in self.entries:
            h.update(f"{e.name}\t{e.label}\t{e.size}\t{e.stamp}\n".encode())
        return h.hexdigest()

    @contextmanager
    def reader(self) -> Iterator[Callable[[Entry], IO[bytes] | Path]]:
        """A function from an entry to what `read_image` opens. A zip stays open in this process
        (the last one read), since reading its directory again for every chunk of files is slow.
        Its reads are serialised by zipfile's own lock, so worker threads may share it."""
        if self.kind == "folder":
            yield lambda e: self.path / e.name
            return
        zf, infos = _open_zip_cached(self.path)
        yield lambda e: _member(zf, infos[e.name])


_OPEN_ZIP: dict[tuple, tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]] = {}


def _open_zip_cached(path: Path) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """One open zip per process (the pid is in the key: a forked worker must not read through
    its parent's file offset)."""
    st = path.stat()
    key = (os.getpid(), str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _OPEN_ZIP:
        for (pid, *_), (zf, _) in _OPEN_ZIP.items():
            if pid == os.getpid():  # a parent's zip (inherited by fork) is not ours to close
                zf.close()
        _OPEN_ZIP.clear()
        zf = open_zip(path)
        _OPEN_ZIP[key] = (zf, {i.filename: i for i in zf.infolist()})
    return _OPEN_ZIP[key]


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """A member's bytes, never more than it declares (a member that lies is a bomb: refused)."""
    f = io.BytesIO(read_member(zf, info, min(info.file_size, ZIP_LIMITS.max_member_bytes)))
    f.name = info.filename
    return f


def open_source(path: Path | str) -> ImageSource:
    """The folder or zip at `path`; SourceError (one line) for anything else."""
    p = Path(path).expanduser()
    if not str(path).strip():
        raise SourceError("no path given: type the folder (or .zip) of images")
    if p.is_dir():
        return _folder(p)
    if p.is_file():
        if zipfile.is_zipfile(p):
            try:
                return _zip(p)
            except UnsafeZip as e:
                raise SourceError(f"{p.name}: {e}") from None
        raise SourceError(f"{p} is a file, not a folder or a .zip of images: give the folder that holds the images")
    raise SourceError(f"{p} is not a folder or a .zip: it does not exist")


def _files(top: Path, root: Path) -> list[tuple[str, int, int]]:
    """(path relative to root, size, mtime ns) of every visible file under `top`, sorted; links
    to files and folders are followed (a folder met twice, by a loop of links, once)."""
    out, seen = [], set()
    for here, dirs, names in os.walk(top, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(here).relative_to(root).as_posix()
        for name in names:
            if name.startswith("."):
                continue
            try:
                st = os.stat(os.path.join(here, name))
            except OSError:  # a broken link: not a file of the dataset
                continue
            if stat.S_ISREG(st.st_mode):
                out.append((name if rel == "." else f"{rel}/{name}", st.st_size, st.st_mtime_ns))
    return sorted(out)


def _folder(root: Path) -> ImageSource:
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    entries, left_out = [], []
    groups = [(i, d) for i, d in enumerate(subdirs)] if subdirs else [(None, root)]
    for label, d in groups:
        entries += [Entry(name, label, size, mtime) for name, size, mtime in _files(d, root)]
    if subdirs:
        left_out = [f"{f.name}: not in a class subfolder" for f in sorted(root.iterdir())
                    if f.is_file() and not f.name.startswith(".")]
    return ImageSource(root, "folder", entries, [d.name for d in subdirs], left_out)


def _zip(path: Path) -> ImageSource:
    with open_zip(path) as zf:
        infos = checked_members(zf, ZIP_LIMITS)
        names = [i.filename for i in infos if PurePosixPath(i.filename).name != LABELS_FILE
                 and not any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(i.filename).parts)]
        by_name = {i.filename: i for i in infos}
        labels_info = next((i for i in infos if PurePosixPath(i.filename).name == LABELS_FILE
                            and i.filename.count("/") <= 1), None)
        labels_json = read_member(zf, labels_info, 64 << 20) if labels_info is not None else None
    if labels_json is not None:
        label_of, class_names = _dataset_json(labels_json, labels_info.filename, names)
    else:
        label_of, class_names = _subfolder_labels(names)
    entries = [Entry(n, label_of.get(n) if class_names else None, by_name[n].file_size, by_name[n].CRC)
               for n in sorted(names)]
    return ImageSource(path, "zip", entries, class_names)


def _dataset_json(data: bytes, where: str, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """stylegan2-ada's labels: {"labels": [[name, int], ...] or null} (names relative to the
    file's folder); our writer adds "class_names". Refused when malformed or not covering every image."""
    try:
        doc = json.loads(data.decode("utf-8"))
        pairs = doc.get("labels") if isinstance(doc, dict) else None
        if pairs is None:
            return {}, []
        base = str(PurePosixPath(where).parent)
        prefix = "" if base == "." else base + "/"
        label_of = {prefix + str(n): int(c) for n, c in pairs}
    except (UnicodeDecodeError, ValueError, TypeError, AttributeError, RecursionError) as e:
        raise SourceError(f"{where} is not a valid dataset.json ({' '.join(str(e).split())[:100]}): expected "
                          '{"labels": [["00000/img00000000.png", 3], ...]} or {"labels": null}') from None
    missing = [n for n in names if n not in label_of]
    if missing:
        raise SourceError(f"{where} gives no label for {missing[0]} (and {len(missing) - 1} more images)"
                          if len(missing) > 1 else f"{where} gives no label for {missing[0]}")
    if any(c < 0 or c >= 100_000 for c in label_of.values()):
        raise SourceError(f"{where}: labels must be whole numbers from 0")
    n_classes = max(label_of.values()) + 1 if label_of else 0
    given = doc.get("class_names")
    if isinstance(given, list) and len(given) == n_classes and all(isinstance(c, str) for c in given):
        return label_of, list(given)
    return label_of, [str(c) for c in range(n_classes)]


def _subfolder_labels(names: list[str]) -> tuple[dict[str, int], list[str]]:
    parts = [PurePosixPath(n).parts for n in names]
    tops = {p[0] for p in parts if len(p) > 1}
    if len(tops) == 1 and all(len(p) > 1 for p in parts):  # one top folder (a zipped folder): look inside
        parts = [p[1:] for p in parts]
    if not parts or not all(len(p) > 1 for p in parts):
        return {}, []
    classes = sorted({p[0] for p in parts})
    index = {c: i for i, c in enumerate(classes)}
    return {n: index[p[0]] for n, p in zip(names, parts)}, classes

"""Reading a zip nobody vouches for, within bounds: the rules that a run zip's import
(`interchange/untrusted.py`) and a zip of training images (`data/sources.py`) share.

    zf = open_zip(path_or_bytes)                       # UnsafeZip if it is not a readable zip
    infos = checked_members(zf, ZipLimits(...))         # names, links, counts and declared sizes
    data = read_member(zf, infos[0], limit=1 << 20)     # inflated in chunks, counted as it comes

A zip is refused for an absolute path, a `..`, a backslash, a drive, a link, a name that
appears twice, more members or more declared bytes than the limits, and a member that inflates
past its limit or to another size than it declares (a zip bomb lies about one or the other).
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Union

from ganlib.core.errors import BadValue

CHUNK = 1 << 20  # inflate 1 MiB at a time
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError,
              struct.error)


class UnsafeZip(BadValue):
    """The zip (or one member) is refused; the message says why and names the member."""


@dataclass(frozen=True)
class ZipLimits:
    max_members: int
    max_member_bytes: int  # unpacked, per member
    max_total_bytes: int  # unpacked, all members together


def size_text(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def open_zip(source: Union[bytes, str, Path]) -> zipfile.ZipFile:
    """A ZipFile over bytes or a file path; UnsafeZip when it is not a readable zip."""
    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except (zipfile.BadZipFile, ValueError, struct.error, EOFError, OSError) as e:
        raise UnsafeZip(f"not a readable zip file ({e})") from None


def checked_members(zf: zipfile.ZipFile, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The zip's file members (folders left out), refused whole before a byte is inflated for
    too many members, too many declared bytes, an unsafe name, a link or a repeated name."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeZip(f"the zip holds {len(infos)} entries; at most {limits.max_members} are accepted")
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_total_bytes:
        raise UnsafeZip(f"the zip's members would unpack to {size_text(declared)}; at most "
                        f"{size_text(limits.max_total_bytes)} in all are accepted")
    seen: set[str] = set()
    out = []
    for info in infos:
        name = info.filename
        check_member_name(name)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise UnsafeZip(f"zip member {name!r} is a symbolic link; links are not accepted")
        if info.is_dir():
            continue
        if info.file_size > limits.max_member_bytes:
            raise UnsafeZip(f"zip member {name!r} is too large ({size_text(info.file_size)} unpacked; "
                            f"at most {size_text(limits.max_member_bytes)} per file)")
        key = name.rstrip("/")
        if key in seen:
            raise UnsafeZip(f"zip member {name!r} appears twice")
        seen.add(key)
        out.append(info)
    return out


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, inflated in chunks and counted as they come: more than `limit` bytes,
    a size other than the declared one, a bad CRC or a broken deflate stream is UnsafeZip."""
    out = bytearray()
    try:
        with zf.open(info) as f:
            while chunk := f.read(CHUNK):
                out += chunk
                if len(out) > limit:
                    raise UnsafeZip(f"zip member {info.filename!r} inflates to more than {limit:,} bytes; "
                                    "refused as too large")
    except UnsafeZip:
        raise
    except ZIP_ERRORS as e:
        raise UnsafeZip(f"zip member {info.filename!r} is corrupt or unreadable "
                        f"({' '.join(str(e).split())[:120] or type(e).__name__})") from None
    if len(out) != info.file_size:
        raise UnsafeZip(f"zip member {info.filename!r} holds {len(out):,} bytes but declares "
                        f"{info.file_size:,}; the zip is damaged")
    return bytes(out)


def check_member_name(name: str) -> None:
    """Refuse absolute paths, drive letters, backslashes, `..` and empty parts."""
    bad = (not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ":" in name
           or any(part in ("", ".", "..") for part in PurePosixPath(name.rstrip("/")).parts)
           or ".." in name.split("/"))
    if bad:
        raise UnsafeZip(f"zip member {name!r} has an unsafe path (absolute, `..` or a drive); refused")

"""TensorBoard event files, written and read without tensorboard, tensorflow or protobuf.

    from ganlib.interchange.tfevents import write_scalars, read_events
    write_scalars("run/tb/events.out.tfevents.1700000000.ganlib",
                  [(1, 1700000000.0, {"d_loss": 0.7, "g_loss": 1.2}), ...])   # (step, wall_time, values)
    read_events(path)   # [{"wall_time", "step", "file_version", "scalars": {tag: value}}, ...]

An event file is a sequence of TFRecords: uint64 length, masked CRC-32C of the length, the data,
masked CRC-32C of the data (all little endian). Each record is a serialized `tensorflow.Event`
protobuf; the few fields a scalar log needs are encoded by hand:

    Event:   wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5
    Summary: value = 1 (repeated Summary.Value)
    Value:   tag = 1 (string), simple_value = 2 (float)

The first event of a file carries only `file_version = "brain.Event:2"`.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from ganlib.core.atomic import atomic_write_bytes

FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8


# ---- CRC-32C (Castagnoli), table driven ----------------------------------------------------
def _table() -> list[int]:
    poly = 0x82F63B78  # 0x1EDC6F41 bit-reversed
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        out.append(c)
    return out


_CRC_TABLE = _table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of `data`; crc32c(b"123456789") == 0xE3069283."""
    c = crc ^ 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# ---- TFRecord framing ----------------------------------------------------------------------
def encode_record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


def iter_records(raw: bytes) -> Iterator[bytes]:
    """The records of an event file; a bad CRC or a truncated record raises ValueError."""
    pos = 0
    while pos < len(raw):
        if pos + 12 > len(raw):
            raise ValueError(f"truncated record header at byte {pos}")
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
        if hcrc != masked_crc32c(header):
            raise ValueError(f"bad length CRC at byte {pos}")
        start, end = pos + 12, pos + 12 + length
        if end + 4 > len(raw):
            raise ValueError(f"truncated record at byte {pos}")
        data = raw[start:end]
        (dcrc,) = struct.unpack("<I", raw[end:end + 4])
        if dcrc != masked_crc32c(data):
            raise ValueError(f"bad data CRC at byte {pos}")
        yield data
        pos = end + 4


# ---- protobuf, the few fields needed -------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 as two's complement, as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _bytes_field(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def encode_value(tag: str, value: float) -> bytes:
    return _bytes_field(1, tag.encode("utf-8")) + _key(2, 5) + struct.pack("<f", float(value))


def encode_event(wall_time: float, step: int = 0, *, file_version: Optional[str] = None,
                 scalars: Optional[dict[str, float]] = None) -> bytes:
    out = _key(1, 1) + struct.pack("<d", float(wall_time))
    if step:
        out += _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode("utf-8"))
    if scalars:
        summary = b"".join(_bytes_field(1, encode_value(t, v)) for t, v in scalars.items())
        out += _bytes_field(5, summary)
    return out


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; varints as ints, fixed as bytes."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= len(data):
                raise ValueError("truncated varint")
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while pos < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            yield field, wire, varint()
        elif wire == 1:
            yield field, wire, data[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n = varint()
            yield field, wire, data[pos:pos + n]
            pos += n
        elif wire == 5:
            yield field, wire, data[pos:pos + 4]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")


def decode_event(data: bytes) -> dict[str, Any]:
    ev: dict[str, Any] = {"wall_time": 0.0, "step": 0, "file_version": None, "scalars": {}}
    for field, wire, v in _fields(data):
        if field == 1 and wire == 1:
            ev["wall_time"] = struct.unpack("<d", v)[0]
        elif field == 2 and wire == 0:
            ev["step"] = v - (1 << 64) if v >= 1 << 63 else v
        elif field == 3 and wire == 2:
            ev["file_version"] = v.decode("utf-8")
        elif field == 5 and wire == 2:
            for f2, w2, value in _fields(v):
                if f2 == 1 and w2 == 2:
                    tag, simple = None, None
                    for f3, w3, x in _fields(value):
                        if f3 == 1 and w3 == 2:
                            tag = x.decode("utf-8")
                        elif f3 == 2 and w3 == 5:
                            simple = struct.unpack("<f", x)[0]
                    if tag is not None and simple is not None:
                        ev["scalars"][tag] = simple
    return ev


# ---- files -----------------------------------------------------------------------------------
def encode_scalars(rows: Iterable[tuple[int, float, dict[str, float]]], start_time: float) -> bytes:
    """A whole event file: the version event, then one event per (step, wall_time, values)."""
    parts = [encode_record(encode_event(start_time, file_version=FILE_VERSION))]
    for step, wall_time, values in rows:
        if values:
            parts.append(encode_record(encode_event(wall_time, step, scalars=values)))
    return b"".join(parts)


def write_scalars(path: str | Path, rows: Iterable[tuple[int, float, dict[str, float]]],
                  start_time: Optional[float] = None) -> Path:
    rows = list(rows)
    t0 = start_time if start_time is not None else (rows[0][1] if rows else 0.0)
    return atomic_write_bytes(path, encode_scalars(rows, t0))


def read_events(path: str | Path) -> list[dict[str, Any]]:
    return [decode_event(r) for r in iter_records(Path(path).read_bytes())]

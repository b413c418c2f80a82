"""Reading files nobody vouches for: a run zip's members, safetensors, a .pt/.pth state dict, and
the JSON, JSON lines, CSV and PNG a run zip may hold. Everything here returns plain data or
raises ImportRefused saying what was wrong; nothing is written and nothing is unpickled.

    files = read_zip(data)                        # {"config.json": b"...", "weights/G.safetensors": ...}
    tensors, meta = load_safetensors(files["weights/G.safetensors"], "weights/G.safetensors")
    obj = load_torch_weights(data, "G.pt")        # torch.load(weights_only=True)

A zip is refused whole for a pickle, an absolute path, a `..`, a backslash, a link, or content
over the size limits below.
"""
from __future__ import annotations

import csv
import io
import json
import math
import struct
import zipfile
from typing import Any

import torch
from PIL import Image
from safetensors.torch import load as parse_safetensors  # parses tensors only: no pickle

from ganlib.core.bounded_zip import UnsafeZip, ZipLimits, checked_members, open_zip, read_member
from ganlib.core.errors import BadValue
from ganlib.store.config import NUM_CLASSES_RANGE, bounds

ALLOWED_SUFFIXES = (".json", ".jsonl", ".csv", ".png", ".safetensors")
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB per file in a zip
MAX_TOTAL_BYTES = 2 << 30  # 2 GiB unpacked in all
MAX_MEMBERS = 20_000


class ImportRefused(BadValue):
    """The file cannot be imported; the message says why (and what to change)."""


def read_zip(data: bytes, suffixes: tuple[str, ...] = ALLOWED_SUFFIXES, max_members: int = MAX_MEMBERS,
             max_total: int = MAX_TOTAL_BYTES) -> dict[str, bytes]:
    """The zip's files as {relative path: bytes}, its one top folder (if any) stripped.
    Refuses unsafe names, links, anything but `suffixes` (a run zip's: safetensors/JSON/CSV/PNG),
    oversized content (declared or actually inflated) and corrupt members (the rules of
    `core.bounded_zip`)."""
    try:
        zf = open_zip(data)
        infos = checked_members(zf, ZipLimits(max_members, MAX_MEMBER_BYTES, max_total))
    except UnsafeZip as e:
        raise ImportRefused(str(e)) from None
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        name = info.filename
        if not name.lower().endswith(suffixes):
            raise ImportRefused(f"zip member {name!r} is not accepted: this zip may only hold "
                                f"{', '.join(suffixes)} files (pickles and code are refused)")
        content = _read_member(zf, info, min(MAX_MEMBER_BYTES, max_total - total))
        total += len(content)
        files[name.rstrip("/")] = content
    tops = {n.split("/", 1)[0] for n in files}
    if len(tops) == 1 and all("/" in n for n in files):  # one folder at the top: strip it
        files = {n.split("/", 1)[1]: b for n, b in files.items()}
    return files


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """`core.bounded_zip.read_member`, its refusal an ImportRefused."""
    try:
        return read_member(zf, info, limit)
    except UnsafeZip as e:
        hint = "; export the run again" if "corrupt" in str(e) else ""
        raise ImportRefused(f"{e}{hint}") from None


def load_safetensors(data: bytes, what: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(tensors, metadata) of safetensors bytes; anything else is refused."""
    try:
        tensors = parse_safetensors(data)
    except Exception as e:  # noqa: BLE001 - any parse error means "not safetensors"
        raise ImportRefused(f"{what} is not a valid safetensors file ({' '.join(str(e).split())[:200]})") from None
    return tensors, _safetensors_metadata(data)


def _safetensors_metadata(data: bytes) -> dict[str, str]:
    try:
        (n,) = struct.unpack("<Q", data[:8])
        meta = json.loads(data[8:8 + n]).get("__metadata__") or {}
        return {str(k): str(v) for k, v in meta.items()}
    except Exception:  # noqa: BLE001 - metadata is optional
        return {}


def load_torch_weights(data: bytes, what: str) -> Any:
    """A .pt/.pth read with weights_only=True: tensors and plain containers only, never code."""
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - hostile, corrupt or foreign pickles all land here
        raise ImportRefused(f"{what} is not a plain weights file: only tensors and plain containers are "
                            f"loaded, never pickled objects or code ({_torch_reason(e)})") from None


def _torch_reason(e: Exception) -> str:
    """What torch.load objected to, without its advice to load with weights_only=False (the
    unsafe thing this reader exists to avoid)."""
    text = str(e)
    if "WeightsUnpickler error:" in text:  # the reason follows it, on the same line or the next
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    plain = [ln for ln in lines if "weights_only" not in ln and "Weights only load failed" not in ln]
    return (plain[0].split(". ")[0] if plain else type(e).__name__)[:160]


def is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                       for k, v in obj.items())


def split_networks(sd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A flat state dict is G's, unless every key starts with `G.`, `D.` or `G_ema.`."""
    prefixed: dict[str, dict[str, Any]] = {}
    for k, v in sd.items():
        net = next((n for n in ("G_ema", "G", "D") if k.startswith(n + ".")), None)
        if net is None:
            return {"G": sd}
        prefixed.setdefault(net, {})[k[len(net) + 1:]] = v
    return prefixed


def parse_json(content: bytes, name: str) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ImportRefused(f"{name} is not valid JSON ({str(e)[:120] or 'nested too deeply'})") from None


def parse_jsonl(content: bytes) -> str:
    try:
        lines = [ln for ln in content.decode("utf-8").splitlines() if ln.strip()]
        if not all(isinstance(json.loads(ln), dict) for ln in lines):
            raise BadValue("every line must be an object")
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ImportRefused(f"evals.jsonl is not valid JSON lines ({str(e)[:120] or 'nested too deeply'})") from None
    return "".join(ln + "\n" for ln in lines)


def parse_csv(content: bytes) -> str:
    """metrics.csv's text, refused unless it has an epoch column of whole numbers in the
    config's range (a run lists and resumes by those epochs)."""
    try:
        text = content.decode("utf-8")
        table = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ImportRefused(f"metrics.csv is not valid CSV ({e})") from None
    if not table or "epoch" not in table[0]:
        raise ImportRefused("metrics.csv has no epoch column")
    header, at = table[0], table[0].index("epoch")
    for i, row in enumerate(table[1:], start=2):  # row by row: a ragged row would shift every column after it
        if not row:  # a blank line, as csv.DictReader skips it
            continue
        if len(row) != len(header):
            raise ImportRefused(f"metrics.csv line {i} has {len(row)} fields, its header {len(header)}: "
                                "a ragged table is refused, not stored")
        epoch_number(row[at], f"metrics.csv line {i}")
    return text


def epoch_number(value: Any, where: str) -> int:
    """An untrusted epoch as an int within the config's epochs bound (0 allowed: before training)."""
    hi = int(bounds("epochs")[1])
    try:
        f = float(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else math.nan
    except ValueError:
        f = math.nan
    if not (math.isfinite(f) and f.is_integer() and 0 <= f <= hi):
        shown = repr(value) if len(repr(value)) <= 30 else repr(value)[:27] + "..."
        raise ImportRefused(f"{where}: epoch must be a whole number from 0 to {hi}, got {shown}")
    return int(f)


def class_count(value: Any, where: str) -> int:
    """An untrusted number of classes, held to the config's NUM_CLASSES_RANGE before any
    embedding of that size is allocated."""
    lo, hi = NUM_CLASSES_RANGE
    try:
        n = int(value) if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi:
        shown = repr(value) if len(repr(value)) <= 30 else repr(value)[:27] + "..."
        raise ImportRefused(f"{where}: num_classes must be a whole number from {lo} to {hi}, got {shown}")
    return n


def last_epoch(metrics_csv: str) -> int:
    epochs = [r.get("epoch") for r in csv.DictReader(io.StringIO(metrics_csv))]
    try:
        return int(float(epochs[-1])) if epochs else 0
    except (TypeError, ValueError, OverflowError):
        return 0


def check_png(content: bytes, name: str) -> None:
    try:
        with Image.open(io.BytesIO(content)) as im:
            if im.format != "PNG" or im.width * im.height > 64_000_000:
                raise BadValue("not a PNG of a sensible size")
            im.verify()
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds
        raise ImportRefused(f"{name} is not a valid PNG ({e})") from None

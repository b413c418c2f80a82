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
import struct
import zipfile
from pathlib import PurePosixPath
from typing import Any

import torch
from PIL import Image
from safetensors.torch import load as parse_safetensors  # parses tensors only: no pickle

ALLOWED_SUFFIXES = (".json", ".jsonl", ".csv", ".png", ".safetensors")
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB per file in a zip
MAX_TOTAL_BYTES = 2 << 30  # 2 GiB unpacked in all
MAX_MEMBERS = 20_000


class ImportRefused(ValueError):
    """The file cannot be imported; the message says why (and what to change)."""


def read_zip(data: bytes) -> dict[str, bytes]:
    """The zip's files as {relative path: bytes}, its one top folder (if any) stripped.
    Refuses unsafe names, links, anything but safetensors/JSON/CSV/PNG, and oversized content."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, struct.error) as e:
        raise ImportRefused(f"not a readable zip file ({e})") from None
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ImportRefused(f"the zip holds {len(infos)} entries; at most {MAX_MEMBERS} are accepted")
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        name = info.filename
        check_member_name(name)
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise ImportRefused(f"zip member {name!r} is a symbolic link; links are not accepted")
        if info.is_dir():
            continue
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise ImportRefused(f"zip member {name!r} is not accepted: a run zip may only hold safetensors, "
                                "JSON, JSON lines, CSV and PNG files (pickles and code are refused)")
        if info.file_size > MAX_MEMBER_BYTES or total + info.file_size > MAX_TOTAL_BYTES:
            raise ImportRefused(f"zip member {name!r} is too large")
        with zf.open(info) as f:
            content = f.read(MAX_MEMBER_BYTES + 1)
        if len(content) > MAX_MEMBER_BYTES:
            raise ImportRefused(f"zip member {name!r} is too large")
        total += len(content)
        key = name.rstrip("/")
        if key in files:
            raise ImportRefused(f"zip member {name!r} appears twice")
        files[key] = content
    tops = {n.split("/", 1)[0] for n in files}
    if len(tops) == 1 and all("/" in n for n in files):  # one folder at the top: strip it
        files = {n.split("/", 1)[1]: b for n, b in files.items()}
    return files


def check_member_name(name: str) -> None:
    """Refuse absolute paths, drive letters, backslashes, `..` and empty parts."""
    bad = (not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ":" in name
           or any(part in ("", ".", "..") for part in PurePosixPath(name.rstrip("/")).parts)
           or ".." in name.split("/"))
    if bad:
        raise ImportRefused(f"zip member {name!r} has an unsafe path (absolute, `..` or a drive); refused")


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
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ImportRefused(f"{what} is not a plain weights file: only tensors and plain containers are "
                            f"loaded, never pickled objects or code ({first})") from None


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
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ImportRefused(f"{name} is not valid JSON ({e})") from None


def parse_jsonl(content: bytes) -> str:
    try:
        lines = [ln for ln in content.decode("utf-8").splitlines() if ln.strip()]
        if not all(isinstance(json.loads(ln), dict) for ln in lines):
            raise ValueError("every line must be an object")
    except (UnicodeDecodeError, ValueError) as e:
        raise ImportRefused(f"evals.jsonl is not valid JSON lines ({e})") from None
    return "".join(ln + "\n" for ln in lines)


def parse_csv(content: bytes) -> str:
    try:
        text = content.decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise ImportRefused(f"metrics.csv is not valid CSV ({e})") from None
    if reader.fieldnames is None or "epoch" not in reader.fieldnames:
        raise ImportRefused("metrics.csv has no epoch column")
    return text


def last_epoch(metrics_csv: str) -> int:
    epochs = [r.get("epoch") for r in csv.DictReader(io.StringIO(metrics_csv))]
    try:
        return int(float(epochs[-1])) if epochs else 0
    except (TypeError, ValueError):
        return 0


def check_png(content: bytes, name: str) -> None:
    try:
        with Image.open(io.BytesIO(content)) as im:
            if im.format != "PNG" or im.width * im.height > 64_000_000:
                raise ValueError("not a PNG of a sensible size")
            im.verify()
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds
        raise ImportRefused(f"{name} is not a valid PNG ({e})") from None

"""Importing runs and weights from untrusted files: a run zip (from `ganlib.interchange.export`), a
.safetensors file, or a .pt/.pth state dict, each checked against the model's architecture and
written as a new run folder that `ganlib.explore.sampling` can draw from.

    from ganlib.interchange.importing import import_file, ImportRefused
    run = import_file(Path("00003-mlp_gan-mnist5k.zip"))             # carries its config
    run = import_file(Path("G.pt"), cfg=load_config_file("c.yaml"))  # bare weights need one

Nothing is ever unpickled as an arbitrary object. Zip members are read as bytes and only
safetensors, JSON, JSON lines, CSV and PNG are accepted; a pickle, an absolute path, a `..`,
a backslash or a link anywhere in the zip refuses the whole file. A bare `.pt` is read with
`torch.load(weights_only=True)`, which rebuilds tensors and plain containers only. Key names
and shapes of every network are compared with the architecture the config builds before
anything is written, and a mismatch names the first differences. A failure after the run
folder was created removes the folder again.

An imported run has no optimizer state. Its checkpoint says `imported: True` (optimizers None)
and its status is `imported (sampling only)`: sample it, walk it, judge it; do not resume it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import struct
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from ganlib.core.atomic import atomic_write_bytes, atomic_write_text
from ganlib.store.config import ConfigError, TrainConfig
from ganlib.store.run_folder import Run, new_run_dir

FORMAT = "ganlib-run"
FORMAT_VERSION = 1
NETWORKS = ("G", "D", "G_ema")
IMPORTED_STATE = "imported (sampling only)"
ALLOWED_SUFFIXES = (".json", ".jsonl", ".csv", ".png", ".safetensors")
MAX_MEMBER_BYTES = 1 << 30  # 1 GiB per file in a zip
MAX_TOTAL_BYTES = 2 << 30  # 2 GiB unpacked in all
MAX_MEMBERS = 20_000
_GRID_RE = re.compile(r"^(samples|recon)/epoch_\d{4,}\.png$")


class ImportRefused(ValueError):
    """The file cannot be imported; the message says why (and what to change)."""


# ---- reading untrusted files -----------------------------------------------------------------
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
    from safetensors.torch import load as parse_safetensors  # parses tensors only: no pickle

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
    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - hostile, corrupt or foreign pickles all land here
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ImportRefused(f"{what} is not a plain weights file: only tensors and plain containers are "
                            f"loaded, never pickled objects or code ({first})") from None


def _is_state_dict(obj: Any) -> bool:
    import torch

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


# ---- architecture check ------------------------------------------------------------------------
def mismatches(model, sd: dict[str, Any]) -> list[str]:
    """Differences between a model's state dict and `sd`: missing, unexpected and reshaped keys."""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    have = {k: tuple(v.shape) for k, v in sd.items()}
    out = [f"missing {k} {list(s)}" for k, s in want.items() if k not in have]
    out += [f"unexpected {k} {list(s)}" for k, s in have.items() if k not in want]
    out += [f"{k}: shape {list(have[k])} in the file, {list(s)} in the model"
            for k, s in want.items() if k in have and have[k] != s]
    return out


def check_architecture(cfg: TrainConfig, nets: dict[str, dict[str, Any]], num_classes: int,
                       limit: int = 5) -> None:
    """Raise ImportRefused listing the first mismatches when `nets` do not fit the config's models."""
    from ganlib.models import build_models

    G, D = build_models(cfg, num_classes)
    for name, sd in nets.items():
        model = D if name == "D" else G
        if model is None:
            raise ImportRefused(f"the file has a discriminator but {cfg.model} has none")
        bad = mismatches(model, sd)
        if bad:
            more = f"; and {len(bad) - limit} more" if len(bad) > limit else ""
            raise ImportRefused(
                f"{name} does not fit {cfg.model} (variant {cfg.variant}, {cfg.channels}x{cfg.image_size}x"
                f"{cfg.image_size} images, latent {cfg.latent_dim}, {num_classes} classes): {len(bad)} "
                f"mismatch{'es' if len(bad) > 1 else ''}: {'; '.join(bad[:limit])}{more}. "
                "Pick the config the weights were trained with.")


# ---- import --------------------------------------------------------------------------------------
@dataclass
class _Import:
    cfg: TrainConfig
    nets: dict[str, dict[str, Any]]
    num_classes: int
    epoch: int
    source: str
    class_names: list[str] = field(default_factory=list)
    metrics_csv: Optional[str] = None
    evals_jsonl: Optional[str] = None
    grids: dict[str, bytes] = field(default_factory=dict)  # "samples/epoch_0001.png" -> bytes
    notes: list[str] = field(default_factory=list)


def import_file(data: bytes | str | Path, filename: Optional[str] = None, *, cfg: Optional[TrainConfig] = None,
                num_classes: Optional[int] = None, epoch: Optional[int] = None,
                runs_root: str | Path | None = None) -> Run:
    """Import a run zip, a .safetensors or a .pt/.pth weights file as a new run.

    A zip carries its own config. A bare weights file uses `cfg` when given, else the config
    stored in it (safetensors written by `export_zip`, or a whole GAN Workbench checkpoint),
    else it is refused and asks for one."""
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
        data = Path(data).read_bytes()
    filename = Path(filename or "upload").name
    suffix = Path(filename).suffix.lower()
    if suffix == ".safetensors":
        plan = _plan_safetensors(data, filename, cfg, num_classes)
    elif suffix in (".pt", ".pth", ".ckpt"):  # torch.save writes a zip too: dispatch on the name first
        plan = _plan_torch(data, filename, cfg, num_classes)
    elif suffix == ".zip" or data[:4] == b"PK\x03\x04":
        plan = _plan_zip(data, filename, cfg, num_classes)
    else:
        raise ImportRefused(f"{filename}: expected a .zip, .safetensors, .pt or .pth file")
    if epoch is not None:
        if epoch < 0:
            raise ImportRefused(f"epoch must be 0 or more, got {epoch}")
        plan.epoch = int(epoch)
    check_architecture(plan.cfg, plan.nets, plan.num_classes)
    return _write_run(plan, runs_root)


def _plan_zip(data: bytes, filename: str, cfg: Optional[TrainConfig], num_classes: Optional[int]) -> _Import:
    files = read_zip(data)
    manifest: dict[str, Any] = {}
    if "manifest.json" in files:
        manifest = _json(files["manifest.json"], "manifest.json")
        if not isinstance(manifest, dict):
            raise ImportRefused("manifest.json must hold an object")
        if manifest.get("format") not in (None, FORMAT) or int(manifest.get("format_version", 1)) > FORMAT_VERSION:
            raise ImportRefused(f"manifest.json names format {manifest.get('format')} version "
                                f"{manifest.get('format_version')}; this GAN Workbench reads {FORMAT} "
                                f"version {FORMAT_VERSION}")
    if cfg is None:
        if "config.json" not in files:
            raise ImportRefused("the zip has no config.json; export the run again or import its weights with a config")
        values = _json(files["config.json"], "config.json")
        if not isinstance(values, dict):
            raise ImportRefused("config.json must hold an object")
        try:
            cfg = TrainConfig.from_dict(values)
        except ConfigError as e:
            raise ImportRefused(f"config.json is not a valid config: {e}") from None
    nets: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for name, content in files.items():
        if name.startswith("weights/") and name.endswith(".safetensors"):
            net = name[len("weights/"):-len(".safetensors")]
            if net not in NETWORKS:
                raise ImportRefused(f"{name}: unknown network {net!r}; expected one of {', '.join(NETWORKS)}")
            nets[net], _ = load_safetensors(content, name)
    if "G" not in nets:
        raise ImportRefused("the zip has no generator weights (weights/G.safetensors)")
    grids = {}
    for name, content in files.items():
        if name.endswith(".png"):
            if not _GRID_RE.match(name):
                notes.append(f"ignored {name}")
                continue
            _check_png(content, name)
            grids[name] = content
        elif name not in ("manifest.json", "config.json", "metrics.csv", "evals.jsonl") \
                and not name.startswith("weights/"):
            notes.append(f"ignored {name}")
    metrics = _csv(files["metrics.csv"]) if "metrics.csv" in files else None
    evals = _jsonl(files["evals.jsonl"]) if "evals.jsonl" in files else None
    epoch = manifest.get("epoch")
    if not isinstance(epoch, int):
        epoch = _last_epoch(metrics) if metrics else 0
    n_cls = num_classes or int(manifest.get("num_classes") or 10)
    names = [str(c) for c in manifest.get("class_names") or []]
    src = f"{filename} (run {manifest['run']})" if manifest.get("run") else filename
    return _Import(cfg, nets, n_cls, epoch, src, names, metrics, evals, grids, notes)


def _plan_safetensors(data: bytes, filename: str, cfg: Optional[TrainConfig],
                      num_classes: Optional[int]) -> _Import:
    tensors, meta = load_safetensors(data, filename)
    nets = split_networks(tensors)
    if meta.get("ganlib_network") in NETWORKS and set(nets) == {"G"}:
        nets = {meta["ganlib_network"]: tensors}
    if "G" not in nets:
        raise ImportRefused(f"{filename} holds no generator weights (it is {', '.join(nets)}); import the "
                            "generator's file or the run's zip")
    cfg = cfg or _meta_config(meta, filename)
    n_cls = num_classes or int(meta.get("num_classes") or 10)
    return _Import(cfg, nets, n_cls, cfg.epochs, filename)


def _plan_torch(data: bytes, filename: str, cfg: Optional[TrainConfig], num_classes: Optional[int]) -> _Import:
    obj = load_torch_weights(data, filename)
    if isinstance(obj, dict) and "G" in obj and isinstance(obj.get("config"), dict):  # a whole checkpoint
        nets = {n: obj[n] for n in NETWORKS if obj.get(n) is not None}
        if not all(_is_state_dict(sd) for sd in nets.values()):
            raise ImportRefused(f"{filename}: the checkpoint's networks are not state dicts of tensors")
        if cfg is None:
            try:
                cfg = TrainConfig.from_dict(obj["config"])
            except ConfigError as e:
                raise ImportRefused(f"{filename}: its config is not valid here: {e}") from None
        metrics = [r for r in obj.get("metrics") or [] if isinstance(r, dict)]
        from ganlib.store.run_folder import rows_to_csv

        return _Import(cfg, nets, num_classes or int(obj.get("num_classes", 10)), int(obj.get("epoch", 0)),
                       filename, [str(c) for c in obj.get("class_names") or []],
                       rows_to_csv(metrics) if metrics else None)
    if _is_state_dict(obj):
        nets = split_networks(obj)
    elif isinstance(obj, dict) and obj and set(obj) <= set(NETWORKS) and all(_is_state_dict(v) for v in obj.values()):
        nets = dict(obj)
    else:
        raise ImportRefused(f"{filename} is not a state dict: expected a mapping of parameter names to tensors, "
                            "or {'G': ..., 'D': ...}")
    if "G" not in nets:
        raise ImportRefused(f"{filename} holds no generator weights")
    if cfg is None:
        raise ImportRefused(f"{filename} carries no config: choose the config it was trained with")
    return _Import(cfg, nets, num_classes or 10, cfg.epochs, filename)


def _meta_config(meta: dict[str, str], filename: str) -> TrainConfig:
    if "ganlib_config" not in meta:
        raise ImportRefused(f"{filename} carries no config: choose the config it was trained with")
    try:
        return TrainConfig.from_json(meta["ganlib_config"])
    except (ConfigError, json.JSONDecodeError) as e:
        raise ImportRefused(f"{filename}: its stored config is not valid here: {e}") from None


def _json(content: bytes, name: str) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ImportRefused(f"{name} is not valid JSON ({e})") from None


def _jsonl(content: bytes) -> str:
    try:
        lines = [ln for ln in content.decode("utf-8").splitlines() if ln.strip()]
        if not all(isinstance(json.loads(ln), dict) for ln in lines):
            raise ValueError("every line must be an object")
    except (UnicodeDecodeError, ValueError) as e:
        raise ImportRefused(f"evals.jsonl is not valid JSON lines ({e})") from None
    return "".join(ln + "\n" for ln in lines)


def _csv(content: bytes) -> str:
    try:
        text = content.decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise ImportRefused(f"metrics.csv is not valid CSV ({e})") from None
    if reader.fieldnames is None or "epoch" not in reader.fieldnames:
        raise ImportRefused("metrics.csv has no epoch column")
    return text


def _last_epoch(metrics_csv: str) -> int:
    epochs = [r.get("epoch") for r in csv.DictReader(io.StringIO(metrics_csv))]
    try:
        return int(float(epochs[-1])) if epochs else 0
    except (TypeError, ValueError):
        return 0


def _check_png(content: bytes, name: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as im:
            if im.format != "PNG" or im.width * im.height > 64_000_000:
                raise ValueError("not a PNG of a sensible size")
            im.verify()
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds
        raise ImportRefused(f"{name} is not a valid PNG ({e})") from None


def _write_run(plan: _Import, runs_root: str | Path | None) -> Run:
    """Create the run folder; on any failure remove it again, so nothing half-made remains."""
    import torch

    from ganlib.store.checkpoints import load_handle, save_checkpoint
    from ganlib.core.images import save_grid
    from ganlib.models import MODELS, build_models
    from ganlib.models.handle import grid_latents

    cfg = plan.cfg
    G, D = build_models(cfg, plan.num_classes)
    state_dicts: dict[str, Any] = {}
    for name, sd in plan.nets.items():
        model = D if name == "D" else G
        try:
            model.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise ImportRefused(f"{name} does not load into {cfg.model}: {' '.join(str(e).split())[:300]}") from None
        state_dicts[name] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    conditional = MODELS.get(cfg.model).conditional
    z, labels, ncol = grid_latents(cfg.seed, cfg.latent_dim, plan.num_classes, conditional)

    run = Run(new_run_dir(cfg, runs_root))
    try:
        run.save_config(cfg)
        if plan.metrics_csv is not None:
            atomic_write_text(run.path / "metrics.csv", plan.metrics_csv)
        else:
            atomic_write_text(run.path / "metrics.csv", "epoch\n")
        if plan.evals_jsonl:
            atomic_write_text(run.path / "evals.jsonl", plan.evals_jsonl)
        for name, content in plan.grids.items():
            atomic_write_bytes(run.path / name, content)
        sampler = G
        if state_dicts.get("G_ema") is not None:
            sampler.load_state_dict(state_dicts["G_ema"])
        if not run.samples():  # a bare weights file: draw the fixed-noise grid once
            with torch.no_grad():
                save_grid(sampler.eval()(z, labels), run.sample_path(plan.epoch), nrow=ncol)
        state = {
            "epoch": plan.epoch, "config": cfg.to_dict(),
            "G": state_dicts["G"], "D": state_dicts.get("D"), "G_ema": state_dicts.get("G_ema"),
            "opt_g": None, "opt_d": None,
            "rng": {"torch": torch.Generator().manual_seed(cfg.seed).get_state()},
            "fixed_z": z, "fixed_labels": labels,
            "num_classes": plan.num_classes, "class_names": list(plan.class_names),
            "metrics": [dict(r) for r in run.metrics()
                        if isinstance(r.get("epoch"), float) and r["epoch"] <= plan.epoch],
            "evals": [],
            "best_fid": math.inf, "evals_since_best": 0,
            "imported": True, "imported_from": plan.source, "imported_at": time.time(),
        }
        ck_path = save_checkpoint(run.checkpoint_path(plan.epoch), state)
        load_handle(ck_path)  # what the Generate page will do: it must work now
        run.write_status(state=IMPORTED_STATE, imported=True, source=plan.source, epoch=plan.epoch,
                         epochs=cfg.epochs, error=None, traceback=None,
                         notes=[f"Imported from {plan.source}: no optimizer state, so this run can be sampled "
                                "but not resumed."] + plan.notes)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)
        raise
    return run


def is_imported(run: Run) -> bool:
    """True for runs made by import: they have no optimizer state and cannot be resumed."""
    return bool(run.status().get("imported"))

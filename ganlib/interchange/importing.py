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
folder was created removes the folder again. The reading of the untrusted bytes themselves
(zip members, safetensors, weights_only torch.load, JSON/CSV/PNG checks) is in
`ganlib.interchange.untrusted`.

An imported run has no optimizer state. Its checkpoint says `imported: True` (optimizers None)
and its status is `imported (sampling only)`: sample it, walk it, judge it; do not resume it.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch

from ganlib.core.atomic import atomic_write_bytes
from ganlib.core.images import save_grid
from ganlib.interchange.untrusted import (
    ImportRefused,
    check_png,
    class_count,
    epoch_number,
    is_state_dict,
    last_epoch,
    load_safetensors,
    load_torch_weights,
    parse_csv,
    parse_json,
    parse_jsonl,
    read_zip,
    split_networks,
)
from ganlib.models import MODELS, build_models, latent_size
from ganlib.models.handle import grid_latents
from ganlib.store.checkpoint_format import build_checkpoint, save_checkpoint
from ganlib.store.checkpoints import load_handle
from ganlib.store.config import NUM_CLASSES_RANGE, ConfigError, TrainConfig
from ganlib.store.run_folder import Run, new_run_dir, rows_to_csv

FORMAT = "ganlib-run"
ZIP_FORMAT_VERSION = 1  # the run zip's own format (manifest.json), not the checkpoint's
NETWORKS = ("G", "D", "G_ema")  # the networks a run zip carries
IMPORTED_STATE = "imported (sampling only)"
_GRID_RE = re.compile(r"^(samples|recon)/epoch_\d{4,}\.png$")


# ---- architecture check ------------------------------------------------------------------------
def mismatches(model, sd: dict[str, Any]) -> list[str]:
    """Differences between a model's state dict and `sd`: missing, unexpected, reshaped and
    retyped keys (a float16 or int64 tensor of the right shape is not the model's weight)."""
    ref = model.state_dict()
    want = {k: tuple(v.shape) for k, v in ref.items()}
    have = {k: tuple(v.shape) for k, v in sd.items()}
    out = [f"missing {k} {list(s)}" for k, s in want.items() if k not in have]
    out += [f"unexpected {k} {list(s)}" for k, s in have.items() if k not in want]
    out += [f"{k}: shape {list(have[k])} in the file, {list(s)} in the model"
            for k, s in want.items() if k in have and have[k] != s]
    out += [f"{k}: {str(sd[k].dtype).removeprefix('torch.')} in the file, "
            f"{str(ref[k].dtype).removeprefix('torch.')} in the model"
            for k in want if k in have and sd[k].dtype != ref[k].dtype]
    return out


def _meta_models(cfg: TrainConfig, num_classes: int):
    """The config's models without memory behind them (shapes and dtypes only), so that a
    check of an untrusted file allocates nothing however large the sizes it claims."""
    try:
        with torch.device("meta"):
            return build_models(cfg, num_classes)
    except Exception:  # noqa: BLE001 - a layer that cannot be built on meta: build it for real (bounded config)
        return build_models(cfg, num_classes)


def check_architecture(cfg: TrainConfig, nets: dict[str, dict[str, Any]], num_classes: int,
                       limit: int = 5) -> None:
    """Raise ImportRefused listing the first mismatches when `nets` do not fit the config's models
    (names, shapes, dtypes), or when a weight is NaN or infinite."""
    G, D = _meta_models(cfg, num_classes)
    for name, sd in nets.items():
        model = D if name == "D" else G
        if model is None:
            raise ImportRefused(f"the file has a discriminator but {cfg.model} has none")
        bad = mismatches(model, sd)
        if bad:
            more = f"; and {len(bad) - limit} more" if len(bad) > limit else ""
            raise ImportRefused(
                f"{name} does not fit {cfg.model} (variant {cfg.variant}, {cfg.channels}x{cfg.image_size}x"
                f"{cfg.image_size} images, latent {latent_size(cfg)}, {num_classes} classes): {len(bad)} "
                f"mismatch{'es' if len(bad) > 1 else ''}: {'; '.join(bad[:limit])}{more}. "
                "Pick the config the weights were trained with.")
        bad_values = [k for k, v in sd.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad_values:
            n = len(bad_values)
            raise ImportRefused(f"{name}: {n} tensor{'s hold' if n > 1 else ' holds'} NaN or inf (first "
                                f"{bad_values[0]}); such weights cannot draw anything")


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
                runs_root: str | Path | None = None, owner: str = "local") -> Run:
    """Import a run zip, a .safetensors or a .pt/.pth weights file as a new run.

    A zip carries its own config. A bare weights file uses `cfg` when given, else the config
    stored in it (safetensors written by `export_zip`, or a whole GAN Workbench checkpoint),
    else it is refused and asks for one. The new run belongs to `owner` (a user name)."""
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
        plan.epoch = epoch_number(epoch, "--epoch")
    plan.num_classes = class_count(plan.num_classes, "num_classes")
    check_architecture(plan.cfg, plan.nets, plan.num_classes)
    return _write_run(plan, runs_root, owner)


def _plan_zip(data: bytes, filename: str, cfg: Optional[TrainConfig], num_classes: Optional[int]) -> _Import:
    files = read_zip(data)
    manifest: dict[str, Any] = {}
    if "manifest.json" in files:
        manifest = parse_json(files["manifest.json"], "manifest.json")
        if not isinstance(manifest, dict):
            raise ImportRefused("manifest.json must hold an object")
        version = manifest.get("format_version", 1)
        if manifest.get("format") not in (None, FORMAT) or not isinstance(version, int) or version > ZIP_FORMAT_VERSION:
            raise ImportRefused(f"manifest.json names format {manifest.get('format')} version "
                                f"{manifest.get('format_version')}; this GAN Workbench reads {FORMAT} "
                                f"version {ZIP_FORMAT_VERSION}")
    if cfg is None:
        if "config.json" not in files:
            raise ImportRefused("the zip has no config.json; export the run again or import its weights with a config")
        values = parse_json(files["config.json"], "config.json")
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
            check_png(content, name)
            grids[name] = content
        elif name not in ("manifest.json", "config.json", "metrics.csv", "evals.jsonl") \
                and not name.startswith("weights/"):
            notes.append(f"ignored {name}")
    metrics = parse_csv(files["metrics.csv"]) if "metrics.csv" in files else None
    evals = parse_jsonl(files["evals.jsonl"]) if "evals.jsonl" in files else None
    if manifest.get("epoch") is not None:
        epoch = epoch_number(manifest["epoch"], "manifest.json")
    else:
        epoch = last_epoch(metrics) if metrics else 0
    n_cls = class_count(num_classes or manifest.get("num_classes") or 10, "manifest.json")
    names = _class_names(manifest.get("class_names"), "manifest.json")
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
    n_cls = class_count(num_classes or meta.get("num_classes") or 10, f"{filename} metadata")
    return _Import(cfg, nets, n_cls, cfg.epochs, filename)


def _plan_torch(data: bytes, filename: str, cfg: Optional[TrainConfig], num_classes: Optional[int]) -> _Import:
    obj = load_torch_weights(data, filename)
    if isinstance(obj, dict) and "G" in obj and isinstance(obj.get("config"), dict):  # a whole checkpoint
        nets = {n: obj[n] for n in NETWORKS if obj.get(n) is not None}
        if not all(is_state_dict(sd) for sd in nets.values()):
            raise ImportRefused(f"{filename}: the checkpoint's networks are not state dicts of tensors")
        if cfg is None:
            try:
                cfg = TrainConfig.from_dict(obj["config"])
            except ConfigError as e:
                raise ImportRefused(f"{filename}: its config is not valid here: {e}") from None
        metrics = [r for r in obj.get("metrics") or [] if isinstance(r, dict)]
        return _Import(cfg, nets, class_count(num_classes or obj.get("num_classes", 10), filename),
                       epoch_number(obj.get("epoch", 0), filename), filename,
                       _class_names(obj.get("class_names"), filename), rows_to_csv(metrics) if metrics else None)
    if is_state_dict(obj):
        nets = split_networks(obj)
    elif isinstance(obj, dict) and obj and set(obj) <= set(NETWORKS) and all(is_state_dict(v) for v in obj.values()):
        nets = dict(obj)
    else:
        raise ImportRefused(f"{filename} is not a state dict: expected a mapping of parameter names to tensors, "
                            "or {'G': ..., 'D': ...}")
    if "G" not in nets:
        raise ImportRefused(f"{filename} holds no generator weights")
    if cfg is None:
        raise ImportRefused(f"{filename} carries no config: choose the config it was trained with")
    return _Import(cfg, nets, num_classes or 10, cfg.epochs, filename)


def _class_names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > NUM_CLASSES_RANGE[1] \
            or not all(isinstance(c, (str, int)) and len(str(c)) <= 200 for c in value):
        raise ImportRefused(f"{where}: class_names must be a list of at most {NUM_CLASSES_RANGE[1]} short names")
    return [str(c) for c in value]


def _meta_config(meta: dict[str, str], filename: str) -> TrainConfig:
    if "ganlib_config" not in meta:
        raise ImportRefused(f"{filename} carries no config: choose the config it was trained with")
    try:
        return TrainConfig.from_json(meta["ganlib_config"])
    except (ConfigError, json.JSONDecodeError) as e:
        raise ImportRefused(f"{filename}: its stored config is not valid here: {e}") from None


def _write_run(plan: _Import, runs_root: str | Path | None, owner: str) -> Run:
    """Create the run folder; on any failure remove it again, so nothing half-made remains."""
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
    z, labels, ncol = grid_latents(cfg.seed, latent_size(cfg), plan.num_classes, conditional)

    run = Run(new_run_dir(cfg, runs_root))
    try:
        run.write_owner(owner)
        run.save_config(cfg)
        run.write_metrics_csv(plan.metrics_csv if plan.metrics_csv is not None else "epoch\n")
        if plan.evals_jsonl:
            run.write_evals([json.loads(line) for line in plan.evals_jsonl.splitlines() if line.strip()])
        for name, content in plan.grids.items():  # names checked: samples|recon/epoch_NNNN.png
            folder, file = name.split("/")
            epoch = int(file.removeprefix("epoch_").removesuffix(".png"))
            atomic_write_bytes(run.sample_path(epoch) if folder == "samples" else run.recon_path(epoch), content)
        sampler = G
        if state_dicts.get("G_ema") is not None:
            sampler.load_state_dict(state_dicts["G_ema"])
        if not run.samples() and not MODELS.get(cfg.model).translation:  # a bare weights file: draw the grid once
            with torch.no_grad():
                save_grid(sampler.eval()(z, labels), run.sample_path(plan.epoch), nrow=ncol)
        state = build_checkpoint(
            epoch=plan.epoch, config=cfg.to_dict(), networks={n: state_dicts.get(n) for n in NETWORKS},
            optimizers={},  # none: an imported run can be sampled, not resumed
            rng={"torch": torch.Generator().manual_seed(cfg.seed).get_state()}, fixed_z=z, fixed_labels=labels,
            num_classes=plan.num_classes, class_names=plan.class_names,
            metrics=[r for r in run.metrics() if isinstance(r.get("epoch"), float) and r["epoch"] <= plan.epoch],
            extra={"imported": True, "imported_from": plan.source, "imported_at": time.time()})
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

"""Flags several subcommands share: --runs-dir, one flag per TrainConfig field, --device and the
feature extractor, each checked the same way wherever it appears.

Every TrainConfig field is a `--field-name VALUE` flag generated from the dataclass, so a new
field needs no CLI change; values stay strings and go through `TrainConfig.from_dict`, the one
place they are checked.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import typing

from ganlib.cli.commands import CLIError, one_line
from ganlib.core.devices import resolve_device
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorUnavailable, FeatureExtractor
from ganlib.metrics.extractor_choice import get_extractor
from ganlib.store.config import DEVICE_RE, ConfigError, TrainConfig, field_specs
from ganlib.store.config_rules import CHOICE_REGISTRIES

RUNS_DIR_HELP = "folder holding the runs (default: $GANLIB_RUNS_DIR or the repo's checkpoints/)"
SHORT_RUNS_DIR_HELP = "folder holding the runs (default: $GANLIB_RUNS_DIR or checkpoints/)"  # export, import, ...
INCEPTION_HINT = ("Offline, `--features digits` (the digit classifier shipped with ganlib) works for digit "
                  "images, but its values are not comparable with Inception FIDs.")

_METAVARS = {"dataset": "NAME", "model": "NAME", "loss": "NAME", "data_path": "PATH", "device": "DEV"}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_runs_dir(parser: argparse.ArgumentParser, help: str = RUNS_DIR_HELP) -> None:
    parser.add_argument("--runs-dir", "--runs_dir", metavar="DIR", help=help)


def add_checkpoint(parser: argparse.ArgumentParser, default: str = "the latest") -> None:
    """`--checkpoint` as every command that reads one run's weights takes it."""
    parser.add_argument("--checkpoint", metavar="FILE",
                        help=f"checkpoint file, or its name in the run's ckpt/ (default: {default})")


def add_device(parser: argparse.ArgumentParser, default: str = "cpu") -> None:
    parser.add_argument("--device", default=default, metavar="DEV",
                        help=f"auto, cpu, cuda or cuda:N (default: {default})")


# ---- TrainConfig fields ---------------------------------------------------------------------
def _field_help(f: dataclasses.Field) -> str:
    text = f.metadata.get("help", "")
    spec = f.metadata.get("choices")
    registry = CHOICE_REGISTRIES.get(spec) if isinstance(spec, str) else None
    if registry is not None and registry.names():  # a list of choices is already spelled out in the help
        text += f" One of: {', '.join(registry.names())}."
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None and hi is not None:
        text += f" Range {lo:g} to {hi:g}."
    default = "empty" if f.default is None else ("''" if f.default == "" else f.default)
    text += f" (default: {default})"
    return text.replace("%", "%%")  # argparse formats help with %


def _metavar(f: dataclasses.Field) -> str:
    hint = typing.get_type_hints(TrainConfig)[f.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if args else hint
    if base in (int, float):
        return "N" if base is int else "X"
    return _METAVARS.get(f.name, "VALUE")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One `--field-name VALUE` flag per TrainConfig field, plus a hidden `--field_name` twin.
    Values stay strings (default: absent) and are coerced and checked by TrainConfig.from_dict."""
    group = parser.add_argument_group(
        "training config (every TrainConfig field; --batch_size works as well as --batch-size)")
    for f in field_specs():
        group.add_argument(flag(f.name), dest=f"cfg_{f.name}", metavar=_metavar(f),
                           default=argparse.SUPPRESS, help=_field_help(f))
        if "_" in f.name:
            group.add_argument("--" + f.name, dest=f"cfg_{f.name}", default=argparse.SUPPRESS,
                               help=argparse.SUPPRESS)


def config_values(args: argparse.Namespace) -> dict[str, str]:
    """The config fields given on the command line, as strings, in field order."""
    return {f.name: getattr(args, f"cfg_{f.name}") for f in field_specs() if hasattr(args, f"cfg_{f.name}")}


def unknown_config_flag(arg: str) -> Exception:
    """An unknown `--flag` named as a ConfigError would name a field, with the nearest field."""
    name = arg[2:].split("=", 1)[0].replace("-", "_")
    fields = [f.name for f in field_specs()]
    close = difflib.get_close_matches(name, fields, n=1)
    hint = f"did you mean {flag(close[0])}?" if close else f"fields are {', '.join(fields)}"
    return ConfigError(name, f"not a config field or train option; {hint}")


# ---- device and feature extractor -------------------------------------------------------------
def check_device(name: str) -> str:
    """A --device value resolved to the device it means (auto becomes cuda or cpu)."""
    if not DEVICE_RE.match(name):
        raise CLIError(f"--device must be auto, cpu, cuda or cuda:N, got {name!r}")
    return str(resolve_device(name))


def extractor(name: str, device: str, weights: str = "") -> FeatureExtractor:
    """The registry's extractor `name` on `device` (one per process), or a CLIError saying how to
    get its weights."""
    FEATURE_EXTRACTORS.get(name)  # an unknown name fails here with the list of known ones
    try:
        return get_extractor(name, device, weights if name == "inception" else "")
    except ExtractorUnavailable as e:
        msg = one_line(str(e)).replace("(or pass weights=<path>)", "(or pass --inception-weights FILE)")
        raise CLIError(msg + (" " + INCEPTION_HINT if name == "inception" else "")) from None

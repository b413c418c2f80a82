"""Config files: a TrainConfig as JSON or YAML, and back, so a run can be reproduced with
`python -m ganlib train --config FILE`.

    text = config_text(cfg, "yaml")                 # either format reads back into an equal config
    cfg = load_config_file("run.yaml")              # .json, .yaml or .yml -> TrainConfig
    save_config_file(cfg, "run.json")

YAML is read with `yaml.safe_load` (plain mappings, lists and scalars; never Python objects),
and every value goes through `TrainConfig.from_dict`, the one place fields are checked.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ganlib.core.atomic import atomic_write_text
from ganlib.core.errors import BadValue
from ganlib.store.config import TrainConfig

SUFFIXES = (".json", ".yaml", ".yml")
YAML_HEAD = "# GAN Workbench TrainConfig. Reproduce with: python -m ganlib train --config THIS_FILE\n"


def _format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("json", "yaml", "yml"):
        raise BadValue(f"config format must be json or yaml, got {fmt!r}")
    return "yaml" if fmt == "yml" else fmt


def config_text(cfg: TrainConfig, fmt: str = "json") -> str:
    """The config as JSON or YAML; either reads back into an equal TrainConfig."""
    if _format(fmt) == "json":
        return cfg.to_json() + "\n"
    return YAML_HEAD + yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=False)


def parse_config_text(text: str, fmt: str = "json") -> TrainConfig:
    fmt = _format(fmt)
    try:
        values = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadValue(f"not valid JSON: {e}") from None
    except RecursionError:
        raise BadValue(f"not a config: nested too deeply to be one ({fmt})") from None
    except yaml.YAMLError as e:
        raise BadValue(f"not valid YAML: {' '.join(str(e).split())}") from None
    if not isinstance(values, dict):
        raise BadValue("a config file holds one mapping of field names to values")
    return TrainConfig.from_dict(values)


def load_config_file(path: str | Path) -> TrainConfig:
    """A TrainConfig from a .json, .yaml or .yml file (what `train --config FILE` reads)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadValue(f"config file must end in .json, .yaml or .yml, got {path.name!r}")
    return parse_config_text(path.read_text(encoding="utf-8"), suffix)


def save_config_file(cfg: TrainConfig, path: str | Path) -> Path:
    path = Path(path)
    return atomic_write_text(path, config_text(cfg, path.suffix or "json"))

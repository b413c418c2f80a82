"""Errors every layer may raise. `ConfigError` lives here, below the config and the model
plugins that both raise it, so that neither has to import the other to name it."""
from __future__ import annotations


class ConfigError(ValueError):
    """A config value that cannot be trained with; `field` names the culprit."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class Diverged(RuntimeError):
    """Training blew up: a loss or gradient norm became NaN, infinite or absurdly large. The
    engine stops the run as `diverged` and keeps its last good checkpoint; the 2-D playground
    stops stepping."""


class RunBusy(RuntimeError):
    """Another live process holds a run folder's training lock; the message names its pid."""

"""Errors every layer may raise. `ConfigError` lives here, below the config and the model
plugins that both raise it, so that neither has to import the other to name it.

`UserError` is the base of every error a user can fix: a bad value, a file or run that is not
there, an unknown name, a busy run folder, a refused import, an action on
another user's run. The CLI prints those as one line
(exit code 2); anything else is a bug in GAN Workbench or a library it calls, and keeps its
traceback. Each also subclasses the builtin it refines (ValueError, FileNotFoundError,
KeyError, RuntimeError), so `except ValueError` around a call still catches it.
"""
from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; its message says what to change."""


class BadValue(UserError, ValueError):
    """A value or a file that GAN Workbench cannot take: out of range, malformed, refused."""


class NotFound(UserError, FileNotFoundError):
    """A run, a checkpoint, a folder or a file that is not there (yet)."""


class NotAFolder(UserError, NotADirectoryError):
    """A path that should be a folder (the runs folder) is a file."""


class UnknownName(UserError, KeyError):
    """A name no registry knows; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError would show the repr of its argument
        return str(self.args[0]) if self.args else ""


class ConfigError(BadValue):
    """A config value that cannot be trained with; `field` names the culprit."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class Diverged(RuntimeError):
    """Training blew up: a loss or gradient norm became NaN, infinite or absurdly large. The
    engine stops the run as `diverged` and keeps its last good checkpoint; the 2-D playground
    stops stepping."""


class NotAllowed(UserError, PermissionError):
    """The acting user may not do this (another user's run, a folder outside the allowed data
    roots, a teacher's setting); the message says whose it is or what is allowed."""


class RunBusy(UserError, RuntimeError):
    """Another live process holds a run folder's training lock; the message names its pid."""

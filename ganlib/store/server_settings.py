"""The teacher's settings for a shared server, in one TOML file, and the rules that follow from
them: whether the dashboard may start on an address, which data paths a user may train on,
and the config fields that are the teacher's in shared mode.

    settings = load_settings()            # $GANLIB_SERVER_CONFIG, else server.toml beside app.py
    settings.shared                       # the one switch: false (absent file) = a laptop
    settings.startup_refusal("0.0.0.0", oidc=False)   # why the app must not serve there, or None
    cfg = settings.confine(actor, cfg)    # NotAllowed for a data path outside the allowed roots

Without the file nothing changes: the dashboard is local (`.streamlit/config.toml` binds
127.0.0.1), one user (`access.LOCAL`), one task at a time. The file is the teacher's, like
`.streamlit/secrets.toml`; nothing a student sends can change it.
"""
from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from ganlib.core.errors import BadValue, NotAllowed
from ganlib.store.access import Actor
from ganlib.store.config import TrainConfig

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FILE = REPO / "server.toml"
TEACHER_FIELDS = ("inception_weights",)  # config fields that are the teacher's setting on a shared server


@dataclass(frozen=True)
class ServerSettings:
    shared: bool = False  # the switch: sign-in, owners, confined paths, the queue
    users_file: str = "users.json"  # salted argon2 hashes (`python -m ganlib users add NAME`)
    teachers: tuple[str, ...] = ()  # identity-provider users (st.login emails) with the teacher role
    session_minutes: int = 240  # a sign-in lasts this long, then the user signs in again
    max_signin_failures: int = 5  # per name and per client within `lockout_s`, then a wait
    lockout_s: int = 300
    data_roots: tuple[str, ...] = ()  # folders a user may train on (besides their own uploads)
    uploads_dir: str = "uploads"  # <uploads_dir>/<user>/: each user's unpacked image zips
    upload_max_mb: int = 200  # one zip of images: its size and the files it may hold
    upload_max_files: int = 20_000
    slots: int = 0  # jobs that train at once (0: 1 on a CPU, 2 per GPU)
    job_processes: bool = True  # train each job in a child process (sessions cannot starve it of the GIL)
    max_running_per_user: int = 1
    max_queued_per_user: int = 3  # waiting jobs a user may have
    inception_weights: str = ""  # the FID Inception weights every run uses (students cannot set a path)
    ray_address: str = ""  # the Ray cluster the teacher's sweeps use; empty: a local Ray
    source: Optional[str] = field(default=None, compare=False)  # the file they came from

    # ---- where things are --------------------------------------------------------------------
    def _path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (Path(self.source).parent if self.source else REPO) / p

    @property
    def users_path(self) -> Path:
        return self._path(self.users_file)

    def uploads_of(self, actor: Actor) -> Path:
        """The user's upload folder (its name is the checked user name)."""
        return self._path(self.uploads_dir) / actor.name

    def roots_for(self, actor: Actor) -> list[Path]:
        """The folders `actor` may train on: the allowed data roots and their own uploads."""
        return [self._path(r).resolve() for r in self.data_roots] + [self.uploads_of(actor).resolve()]

    # ---- the rules ---------------------------------------------------------------------------
    def startup_refusal(self, address: Optional[str], oidc: bool = False) -> Optional[str]:
        """Why the dashboard must not serve on `address`, or None. Loopback is always fine;
        any other address (all interfaces included) needs shared mode with sign-in set up."""
        if is_loopback(address):
            return None
        where = address or "every network interface"
        if not self.shared:
            return (f"This dashboard listens on {where} but shared mode is off, so anyone who can reach this "
                    "machine could train on it and read its files. Serve it on 127.0.0.1 (the default), or turn "
                    f"shared mode on in {self.source or settings_file()} (see the README: Sharing with a class).")
        if not oidc and not has_users(self.users_path):
            return (f"Shared mode on {where} needs sign-in, and none is set up: add accounts with "
                    f"`python -m ganlib users add NAME` (users file {self.users_path}), or configure an identity "
                    "provider in .streamlit/secrets.toml ([auth]).")
        return None

    def check_data_path(self, actor: Actor, path: str) -> Path:
        """The resolved path (symlinks followed, `..` folded) when it lies inside one of the
        actor's roots; NotAllowed otherwise. Only in shared mode; a teacher is held to it too."""
        p = Path(path).expanduser()
        resolved = p.resolve()
        if not self.shared:
            return resolved
        roots = self.roots_for(actor)
        if any(resolved == r or resolved.is_relative_to(r) for r in roots):
            return resolved
        allowed = ", ".join(str(r) for r in roots)
        raise NotAllowed(f"data path {path}: on this shared server data must come from {allowed} (the allowed "
                         "folders and your own uploads)" + (f"; it resolves to {resolved}" if str(resolved) != path
                                                            else ""))

    def confine(self, actor: Actor, cfg: TrainConfig) -> TrainConfig:
        """`cfg` as a shared server trains it: a local data path checked against the actor's
        roots, the Inception weights the teacher's. NotAllowed for anything else."""
        if not self.shared:
            return cfg
        if cfg.data_path.strip():
            self.check_data_path(actor, cfg.data_path)
        if cfg.inception_weights and cfg.inception_weights != self.inception_weights:
            raise NotAllowed("inception_weights: on a shared server the Inception weights are the teacher's "
                             "setting (server.toml), not a run's")
        return cfg.replace(inception_weights=self.inception_weights) if self.inception_weights else cfg


def is_loopback(address: Optional[str]) -> bool:
    if not address:
        return False  # Streamlit's default: every interface
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def has_users(path: Path) -> bool:
    from ganlib.store.users import UsersFile  # why here: users imports argon2, needed only when shared

    return UsersFile(path).can_sign_in()


def settings_file() -> Path:
    env = os.environ.get("GANLIB_SERVER_CONFIG")
    return Path(env) if env else DEFAULT_FILE


def load_settings(path: Optional[Path] = None) -> ServerSettings:
    """The settings file's values over the defaults; no file: a laptop's defaults. An unknown
    key or a value of the wrong type is refused by name (a typo must not open the server)."""
    path = path or settings_file()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return ServerSettings()
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadValue(f"{path}: not valid TOML ({e})") from None
    values: dict[str, Any] = dict(raw.get("ganlib", raw))  # a [ganlib] table, or top-level keys
    known = {f.name: f for f in fields(ServerSettings) if f.name != "source"}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise BadValue(f"{path}: unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                       f"known: {', '.join(known)}")
    for name, value in values.items():
        default = getattr(ServerSettings, name)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadValue(f"{path}: {name} must be a list of strings")
            values[name] = tuple(value)
        elif type(value) is not type(default):
            raise BadValue(f"{path}: {name} must be a {type(default).__name__}, got {value!r}")
        elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise BadValue(f"{path}: {name} must be 0 or more")
    return ServerSettings(**values, source=str(path))

"""Accounts for a shared server without an identity provider: a users file of salted argon2id
hashes (argon2-cffi: the hashing, salting and constant-time checks are its, not ours), an
optional class password (any new name signs in with it, as a student), and the limiter that
slows down guessing.

    users = UsersFile(settings.users_path)
    users.add("ada", "correct horse", role="student")     # `python -m ganlib users add ada`
    users.set_class_password("s3cret")                     # `python -m ganlib users class-password`
    actor = users.verify("ada", "correct horse")           # Actor, or None
    limiter = SignInLimiter(5, 300); limiter.wait_s("ada", "10.0.0.7")   # seconds until the next try

The file is JSON ({"users": {name: {"hash", "role"}}, "class_password": hash}), written
atomically; it never holds a password. Verifying an unknown name costs the same as a known one,
so the time of an answer does not say which names exist.
"""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ganlib.core.atomic import atomic_write_text
from ganlib.core.errors import BadValue, NotFound
from ganlib.store.access import ROLES, Actor, check_name

MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 defaults; the parameters live in each hash
_DUMMY = _HASHER.hash("a password nobody has")  # an unknown name is checked against this: same time


class UsersFile:
    def __init__(self, path: str | Path, hasher: PasswordHasher = _HASHER):
        self.path = Path(path)
        self.hasher = hasher  # tests pass a cheap one; the hash records its own parameters

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"users": {}}
        except (OSError, ValueError) as e:
            raise BadValue(f"{self.path}: not a readable users file ({e})") from None
        if not isinstance(data, dict) or not isinstance(data.get("users", {}), dict):
            raise BadValue(f"{self.path}: not a users file (expected {{\"users\": {{...}}}})")
        data.setdefault("users", {})
        return data

    def _write(self, data: dict[str, Any]) -> None:
        atomic_write_text(self.path, json.dumps(data, indent=2))
        self.path.chmod(0o600)  # hashes only, but nobody else's business

    def users(self) -> dict[str, str]:
        """name -> role."""
        return {n: u.get("role", "student") for n, u in self._read()["users"].items()}

    def can_sign_in(self) -> bool:
        data = self._read()
        return bool(data["users"]) or bool(data.get("class_password"))

    def add(self, name: str, password: str, role: str = "student", *, replace: bool = False) -> None:
        check_name(name)
        if role not in ROLES:
            raise BadValue(f"role {role!r}: known roles are {', '.join(ROLES)}")
        _check_password(password)
        data = self._read()
        if name in data["users"] and not replace:
            raise BadValue(f"user {name} exists; use --replace to set a new password")
        data["users"][name] = {"hash": self.hasher.hash(password), "role": role, "created": time.time()}
        self._write(data)

    def remove(self, name: str) -> None:
        data = self._read()
        if data["users"].pop(name, None) is None:
            raise NotFound(f"no user {name} in {self.path}")
        self._write(data)

    def set_class_password(self, password: Optional[str]) -> None:
        """A password any student name may sign in with (None removes it)."""
        data = self._read()
        if password is None:
            data.pop("class_password", None)
        else:
            _check_password(password)
            data["class_password"] = self.hasher.hash(password)
        self._write(data)

    def verify(self, name: str, password: str) -> Optional[Actor]:
        """The signed-in actor, or None for a wrong name or password (which one is not said).
        A name in the file needs its own password; any other valid name may use the class
        password, as a student."""
        data = self._read()
        user = data["users"].get(name) if isinstance(name, str) else None
        try:
            check_name(name)
        except BadValue:
            self._check(_DUMMY, password)
            return None
        if user is not None:
            return Actor(name, user.get("role", "student")) if self._check(user.get("hash", ""), password) else None
        class_hash = data.get("class_password")
        if class_hash and self._check(class_hash, password):
            return Actor(name, "student")
        if not class_hash:
            self._check(_DUMMY, password)
        return None

    def _check(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadValue(f"a password needs at least {MIN_PASSWORD} characters")


class SignInLimiter:
    """At most `max_failures` failed sign-ins per name and per client within `window_s`; then
    that name (or client) waits until the oldest failure leaves the window. Thread-safe, one per
    server process; a success clears the name's failures (not the client's)."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0, clock=time.monotonic):
        self.max_failures, self.window_s, self.clock = max(1, max_failures), window_s, clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _keys(self, name: str, client: Optional[str]) -> list[tuple[str, str]]:
        return [("name", str(name).lower())] + ([("client", client)] if client else [])

    def wait_s(self, name: str, client: Optional[str]) -> float:
        """Seconds before this name from this client may try again (0: now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(name, client):
                q = self._failures.get(key)
                if not q:
                    continue
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - q[0]))
        return wait

    def failed(self, name: str, client: Optional[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(name, client):
                self._failures[key].append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", str(name).lower()), None)

"""Name-to-object registries: adding a dataset, model, loss or metric is one file and one line.

A registry refuses a name twice and refuses lookups of unknown names with the list of
known ones, so a typo in a config or a CLI flag fails with a message, not a KeyError.
"""
from __future__ import annotations

import re
from typing import Callable, Generic, Iterator, TypeVar

from ganlib.core.errors import BadValue, UnknownName

T = TypeVar("T")
# ASCII letters, digits, '_' and '-' (preset names such as `dcgan-seed001`), not starting with
# '-': a name is typed as a CLI value, and one that starts with '-' would read as a flag.
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: `@MODELS.register("mlp_gan")`."""

        def add(obj: T) -> T:
            self.add(name, obj)
            return obj

        return add

    def add(self, name: str, obj: T) -> None:
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise BadValue(f"{self.kind} name {name!r} must be letters, digits, '_' and '-' "
                             "(not starting with '-')")
        if name in self._items:
            raise BadValue(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownName(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

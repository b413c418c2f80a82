"""Pinned latents of a run (`Run.favourites_file`), written atomically. A damaged file raises
rather than being overwritten, so a typo in a hand edit never loses the list."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ganlib.core.atomic import atomic_write_text
from ganlib.core.errors import BadValue
from ganlib.explore.latent.inputs import as_run
from ganlib.store.run_folder import Run


@dataclass
class Favourite:
    name: str
    latent: list[float]
    seed: Optional[int] = None  # the seed it started from, when it came from one
    label: Optional[int] = None  # the class, for conditional models
    created: float = field(default_factory=time.time)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Favourite":
        if not isinstance(d, dict) or not str(d.get("name", "")).strip() or not isinstance(d.get("latent"), list):
            raise BadValue(f"not a favourite (needs a name and a latent list): {str(d)[:80]}")
        return cls(str(d["name"]), [float(v) for v in d["latent"]],
                   None if d.get("seed") is None else int(d["seed"]),
                   None if d.get("label") is None else int(d["label"]), float(d.get("created", 0.0)))


def favourites_path(run: str | Path | Run) -> Path:
    return as_run(run).favourites_file


def load_favourites(run: str | Path | Run) -> list[Favourite]:
    """The run's pinned latents, oldest first ([] when none). A damaged file raises ValueError
    rather than being overwritten by the next save."""
    path = favourites_path(run)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadValue(f"{path} is not valid JSON ({e}); fix or delete it") from None
    items = data.get("favourites") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadValue(f"{path} holds no list of favourites")
    return [Favourite.from_dict(d) for d in items]


def save_favourites(run: str | Path | Run, favs: Sequence[Favourite]) -> Path:
    doc = {"version": 1, "favourites": [asdict(f) for f in favs]}
    return atomic_write_text(favourites_path(run), json.dumps(doc, indent=1))


def add_favourite(run: str | Path | Run, fav: Favourite) -> list[Favourite]:
    """Pin `fav`; one of the same name is replaced. Returns the new list."""
    if not fav.name.strip():
        raise BadValue("a favourite needs a name")
    favs = [f for f in load_favourites(run) if f.name != fav.name] + [fav]
    save_favourites(run, favs)
    return favs


def remove_favourite(run: str | Path | Run, name: str) -> list[Favourite]:
    favs = [f for f in load_favourites(run) if f.name != name]
    save_favourites(run, favs)
    return favs

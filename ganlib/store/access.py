"""Who may do what to a run. Every run records its owner (`Run.owner()`, owner.json); a user
manages only their own runs, reads everyone's, and the teacher role manages all of them. A run
from before owners were recorded is readable by all and managed by teachers only.

    from ganlib.store.access import LOCAL, Actor, require
    require(Actor("ada", "student"), run, "stop")     # NotAllowed unless ada made the run
    delete_run(run, actor)                            # the one way a run folder is deleted

The library's calls take the acting user and refuse here (the job manager, forks, exports,
deletes); pages only hide what these calls would refuse anyway. On a laptop and on the command
line the actor is `LOCAL`, a teacher: nothing changes there.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Optional

from ganlib.core.errors import BadValue, NotAllowed
from ganlib.store.run_folder import LIVE_STATES, Run

ROLES = ("student", "teacher")
# What "manage" covers: everything that changes a run or takes it away (reading is open to all).
ACTIONS = ("start", "pause", "resume", "stop", "cancel", "edit", "fork", "export", "delete", "write")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")  # also a folder name: the user's uploads


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadValue(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@', starting with a "
                       "letter or digit")
    return name


@dataclass(frozen=True)
class Actor:
    """The user a call acts for: a signed-in name and role, or `LOCAL`."""

    name: str
    role: str = "student"

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.role not in ROLES:
            raise BadValue(f"unknown role {self.role!r}; known: {', '.join(ROLES)}")

    @property
    def is_teacher(self) -> bool:
        return self.role == "teacher"


LOCAL = Actor("local", "teacher")  # the laptop, the CLI, the teacher's own machine


def may_manage(actor: Actor, owner: Optional[str]) -> bool:
    """A teacher manages every run; anyone else only the runs they own (not an ownerless one)."""
    return actor.is_teacher or (owner is not None and owner == actor.name)


def require_owner(actor: Actor, owner: Optional[str], action: str, what: str) -> None:
    """NotAllowed unless `actor` may `action` a thing owned by `owner` (`what` names it)."""
    if action not in ACTIONS:
        raise BadValue(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    if not may_manage(actor, owner):
        whose = f"{owner}'s" if owner else "an older run without an owner, which only a teacher manages:"
        raise NotAllowed(f"{actor.name} may not {action} {what}: it is {whose} run. You can read it; "
                         "fork or train your own to change it" if owner else
                         f"{actor.name} may not {action} {what}: it is {whose} ask your teacher")


def require(actor: Actor, run: Run, action: str) -> None:
    """NotAllowed unless `actor` may `action` this run."""
    require_owner(actor, run.owner(), action, run.name)


def delete_run(run: Run, actor: Actor) -> None:
    """Delete a run folder, if `actor` may and nothing trains it."""
    require(actor, run, "delete")
    if run.status().get("state") in LIVE_STATES:
        raise NotAllowed(f"{run.name} is training: stop it before deleting it")
    if not run.config_file.is_file():
        raise BadValue(f"{run.path} is not a run folder (no config.json)")
    shutil.rmtree(run.path)

"""The subcommand registry and what every subcommand shares: exit codes, the user-error type
and stderr printing. A subcommand is one file that ends with

    COMMANDS.add("runs", Command(add_parser, run))

where `add_parser(sub)` adds its parser to argparse's subparsers and `run(args)` returns an
exit code; `ganlib.cli.main` builds the parser from the registry in registration order.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ganlib.core.errors import UserError
from ganlib.core.registry import Registry

try:
    from tqdm import tqdm
except ImportError:  # tqdm is in requirements.txt; without it there are just no bars
    tqdm = None

# Exit codes.
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class CLIError(UserError):
    """A user error found by the CLI itself; printed as `error: <message>`, exit code 2."""


@dataclass(frozen=True)
class Command:
    add_parser: Callable[[Any], argparse.ArgumentParser]  # argparse's subparsers -> this command's parser
    run: Callable[[argparse.Namespace], int]  # parsed arguments -> exit code
    # An unknown `--flag` given to this command -> the error to print (default: a plain CLIError).
    unknown_flag: Optional[Callable[[str], Exception]] = None


COMMANDS: Registry[Command] = Registry("command")


def eprint(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


def one_line(message: str) -> str:
    return " ".join(str(message).split())


class FractionBar:
    """A progress bar on stderr fed by the library's `progress(fraction, text)` callbacks (a
    folder's packing, a zip's writing); nothing when `show` is off, stderr is no terminal (a log
    file would only fill with carriage returns) or tqdm is missing."""

    def __init__(self, show: bool = True):
        self.show = show and tqdm is not None
        self.bar = None

    def __call__(self, fraction: float, text: str) -> None:
        if not self.show:
            return
        if self.bar is None:
            self.bar = tqdm(total=1.0, file=sys.stderr, leave=False, disable=None,
                            bar_format="{desc} {percentage:3.0f}%|{bar}|")
        self.bar.set_description(text, refresh=False)
        self.bar.update(max(0.0, min(1.0, fraction)) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

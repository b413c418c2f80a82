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

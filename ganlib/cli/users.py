"""`python -m ganlib users add|remove|list|class-password`: the accounts of a shared server
(`store.users`: salted argon2id hashes in the users file that server.toml names).

    python -m ganlib users add ada                    # asks for the password twice
    python -m ganlib users add mrs-b --role teacher
    echo "$PW" | python -m ganlib users add ada --password-stdin
    python -m ganlib users class-password             # any new name signs in with it, as a student
    python -m ganlib users list
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, CLIError, Command, eprint
from ganlib.store.access import ROLES
from ganlib.store.server_settings import load_settings
from ganlib.store.users import UsersFile


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("users", allow_abbrev=False, help="accounts of a shared server (sign-in)",
                       description="Add, remove and list the accounts that sign in to a shared dashboard. Passwords "
                                   "are stored as salted argon2id hashes in the users file (server.toml's users_file; "
                                   "$GANLIB_SERVER_CONFIG names another settings file).")
    p.add_argument("--file", default=None, help="the users file (default: the one server.toml names)")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = acts.add_parser("add", help="add a user (or --replace a password)")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, default="student")
    a.add_argument("--replace", action="store_true", help="set a new password for an existing user")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    r = acts.add_parser("remove", help="remove a user")
    r.add_argument("name")
    acts.add_parser("list", help="the users and their roles")
    c = acts.add_parser("class-password", help="set the class password (new names sign in as students)")
    c.add_argument("--remove", action="store_true", help="remove the class password")
    c.add_argument("--password-stdin", action="store_true")
    return p


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CLIError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    users = UsersFile(args.file or load_settings().users_path)
    if args.action == "add":
        users.add(args.name, _password(args), args.role, replace=args.replace)
        eprint(f"{'updated' if args.replace else 'added'} {args.name} ({args.role}) in {users.path}")
    elif args.action == "remove":
        users.remove(args.name)
        eprint(f"removed {args.name} from {users.path}")
    elif args.action == "class-password":
        users.set_class_password(None if args.remove else _password(args))
        eprint(f"class password {'removed' if args.remove else 'set'} in {users.path}")
    else:
        for name, role in sorted(users.users().items()):
            print(f"{name}\t{role}")
    return OK


COMMANDS.add("users", Command(add_parser, run))

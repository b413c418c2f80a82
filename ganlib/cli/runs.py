"""`python -m ganlib runs`: the runs as an aligned table on stdout, each with its health verdict
(`metrics.health`: learning, collapse 1/10, D winning, diverged, ...; "?" when its files cannot
be read)."""
from __future__ import annotations

import argparse
from typing import Any

from ganlib.cli.commands import COMMANDS, OK, Command, eprint
from ganlib.cli.flags import add_runs_dir
from ganlib.store.run_folder import list_runs, runs_dir
from ganlib.store.run_health import summary_row

RUN_COLUMNS = ("run", "status", "model", "dataset", "epoch", "d_loss", "g_loss", "health")
NUMERIC = {"epoch", "d_loss", "g_loss"}  # right-aligned


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("runs", allow_abbrev=False, help="list the runs as a table",
                       description="List the runs: name, status, model, dataset, epochs done, last losses and a "
                                   "health verdict (learning, collapse k/N, D winning, stalled, diverged, "
                                   "failed, too early; ? when the run's files cannot be read).")
    add_runs_dir(p)
    return p


def _cell(row: dict[str, Any], col: str) -> str:
    if col == "epoch":
        done = row.get("epoch")
        return f"{done if done is not None else '?'}/{row['epochs'] if row.get('epochs') is not None else '?'}"
    v = row.get(col)
    if v is None or v == "":
        return "-"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def runs_table(rows: list[dict[str, Any]]) -> str:
    table = [list(RUN_COLUMNS)] + [[_cell(r, c) for c in RUN_COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(RUN_COLUMNS))]
    lines = []
    for line in table:
        cells = [v.rjust(w) if c in NUMERIC else v.ljust(w) for v, w, c in zip(line, widths, RUN_COLUMNS)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    runs = list_runs(args.runs_dir)
    if not runs:
        eprint(f"no runs in {runs_dir(args.runs_dir)}")
        return OK
    print(runs_table([summary_row(r) for r in runs]))
    return OK


COMMANDS.add("runs", Command(add_parser, run))

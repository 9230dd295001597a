"""``plait summary RUN``: counts per app and state, the slowest tries, and each failure's root
cause with the files to open (like ``ray summary tasks``)."""

from __future__ import annotations

import argparse
import os

from plait.cli.commands._run_args import add_run_arguments

HELP = "Summarize a monitored run: per-app counts and times, slowest tries, failures."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    parser.add_argument("--slowest", type=int, default=10, metavar="N",
                        help="how many of the slowest tries to list (default 10)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from plait.monitoring import _queries as Q
    from plait.monitoring import _views as V

    console = Console()
    with Q.reader(args.target) as engine, engine.connect() as conn:
        found = Q.find_run(conn, args.target, args.run)
        console.print(V.run_header(found))
        console.print(V.counts_table(found))
        console.print()
        console.print(V.app_stats_table(Q.app_stats(conn, found.run_id)))
        console.print()
        console.print(V.slowest_table(Q.slowest(conn, found.run_id, args.slowest)))
        console.print()
        logs = [os.path.join(found.rundir, name) for name in ("plait.log", "monitoring.log")]
        console.print(V.failures_view(found, Q.failures(conn, found.run_id), logs),
                      soft_wrap=True)  # paths stay whole, to copy
    return 0

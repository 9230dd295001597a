"""``plait status RUN_DIR|DB``: the live state of a monitored run, tasks per app and state."""

from __future__ import annotations

import argparse
import sys
import time

HELP = "Show a monitored run's tasks per app and state, live until it ends."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default="runinfo",
                        help="a run directory (runinfo/003), a base run directory, a "
                             "monitoring.db file or a SQLAlchemy URL (default: runinfo)")
    parser.add_argument("--run", help="the run id (or a unique prefix) to show; default: the "
                                      "run of the directory given, else the latest run")
    parser.add_argument("--list", action="store_true", help="list the recorded runs instead")
    parser.add_argument("--once", action="store_true",
                        help="print the state once and exit (the default when not a terminal)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between refreshes of the live table (default 1)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console, Group
    from rich.live import Live

    from plait.monitoring import _queries as Q
    from plait.monitoring import _views as V

    console = Console()
    with Q.reader(args.target) as engine:
        if args.list:
            with engine.connect() as conn:
                console.print(V.runs_table(Q.runs(conn)))
            return 0

        def view() -> tuple[Group, bool]:
            with engine.connect() as conn:
                found = Q.find_run(conn, args.target, args.run)
            return Group(V.run_header(found), V.counts_table(found)), found.outcome == "running"

        shown, live = view()
        if args.once or not sys.stdout.isatty() or not live:
            console.print(shown)
            return 0
        with Live(shown, console=console, auto_refresh=False) as screen:
            while live:
                time.sleep(args.interval)  # the database is another process's: re-read it
                shown, live = view()
                screen.update(shown, refresh=True)
    return 0

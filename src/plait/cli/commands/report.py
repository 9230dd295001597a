"""``plait report RUN -o run.html``: one self-contained HTML file of a monitored run."""

from __future__ import annotations

import argparse
import os
import sys

from plait.cli.commands._run_args import add_run_arguments

HELP = "Write a self-contained HTML report of a monitored run (summary, timeline, failures)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    parser.add_argument("-o", "--output", default="plait-report.html",
                        help="the HTML file to write (default plait-report.html)")


def run(args: argparse.Namespace) -> int:
    from plait.monitoring import _queries as Q
    from plait.monitoring.dashboard import page
    from plait.monitoring.dashboard._data import report

    with Q.reader(args.target) as engine, engine.connect() as conn:
        found = Q.find_run(conn, args.target, args.run)
        data = report(conn, found.run_id)
    tmp = f"{args.output}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(page(data))
    os.replace(tmp, args.output)
    print(f"wrote {args.output}: run {found.run_id} ({found.task_count} tasks, "
          f"{len(data['failures'])} failures)", file=sys.stderr)
    return 0

"""The arguments that name one monitored run, shared by the commands that read one."""

from __future__ import annotations

import argparse


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``[TARGET] [--run ID]``: where the monitoring database is, and which run in it."""
    parser.add_argument("target", nargs="?", default="runinfo",
                        help="a run directory, a monitoring.db file or a SQLAlchemy URL")
    parser.add_argument("--run", help="run id or unique prefix (default: the directory's run, "
                                      "else the latest)")

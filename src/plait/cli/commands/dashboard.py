"""``plait dashboard DB``: serve the monitoring dashboard (Parsl's ``parsl-visualize``)."""

from __future__ import annotations

import argparse

HELP = "Serve the live monitoring dashboard of a database (runs, graph, timeline, failures)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default="runinfo",
                        help="a monitoring.db file, a run directory or a SQLAlchemy URL "
                             "(default: runinfo)")
    parser.add_argument("-p", "--port", type=int, default=8080, help="port (default 8080; "
                        "0 picks a free one)")
    parser.add_argument("-l", "--listen", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-d", "--debug", action="store_true", help="log every request")


def run(args: argparse.Namespace) -> int:
    from plait.monitoring.dashboard import serve

    serve(args.target, args.listen, args.port, debug=args.debug)
    return 0

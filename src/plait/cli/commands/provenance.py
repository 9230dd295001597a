"""``plait provenance export RUN --format prov-json|prov-n|prov-xml|ro-crate``."""

from __future__ import annotations

import argparse
import sys

from plait.cli.commands._run_args import add_run_arguments

HELP = "Export a monitored run's provenance as W3C PROV or a Workflow Run RO-Crate."
FORMATS = ("prov-json", "prov-n", "prov-xml", "ro-crate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write the provenance of one run",
                                description="Write the provenance of one run: tasks as "
                                            "activities, values and files as entities.")
    add_run_arguments(export)
    export.add_argument("--format", choices=FORMATS, default="prov-json",
                        help="prov-json (default), prov-n, prov-xml, or ro-crate (a "
                             "directory, or a .zip)")
    export.add_argument("-o", "--output", help="file (or crate directory) to write; default: "
                                               "standard output, or ./<run id>-crate")


def run(args: argparse.Namespace) -> int:
    from plait.monitoring import _provenance as P
    from plait.monitoring import _queries as Q

    with Q.reader(args.target) as engine, engine.connect() as conn:
        found = Q.find_run(conn, args.target, args.run)
        record = P.load(conn, found)
    if args.format == "ro-crate":
        out = args.output or f"{found.run_id}-crate"
        P.write_ro_crate(record, out)
        print(f"wrote RO-Crate {out} ({len(record.tasks)} tasks)", file=sys.stderr)
        return 0
    text = P.serialize_prov(record, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output} ({len(record.tasks)} tasks)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

"""``plait cwl run``: run a CWL workflow or tool on plait (the cwl-runner interface)."""

from __future__ import annotations

import argparse

HELP = "Run CWL workflows and tools on plait (plait cwl run WORKFLOW.cwl JOB.yml)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``plait cwl run ARGS...``: ARGS are cwltool's (see ``plait cwl run --help``)."""
    sub = parser.add_subparsers(dest="cwl_command", metavar="SUBCOMMAND")
    # Everything after `run` goes to the runner's own (cwltool-derived) parser, --help
    # included; a prefix character that never occurs keeps argparse from reading options.
    run = sub.add_parser("run", add_help=False, prefix_chars="\x00",
                         help="run WORKFLOW.cwl [JOB.yml] with cwltool's options and --config")
    run.add_argument("argv", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    """Dispatch ``plait cwl SUBCOMMAND``."""
    if args.cwl_command != "run":
        print("usage: plait cwl run [cwltool options] [--config CONFIG.py] WORKFLOW.cwl "
              "[JOB.yml]")
        return 2
    from plait.cwl._runner import main

    return main(args.argv, prog="plait cwl run")

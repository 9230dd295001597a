"""``plait cleanup RUN``: cancel the batch jobs a crashed or killed run left on its schedulers."""

from __future__ import annotations

import argparse
import os

HELP = "Cancel the batch jobs a run left behind (after a crash, kill -9 or lost login)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run", nargs="+", metavar="RUN",
        help="a run directory (runinfo/007), a run number (7, looked up in ./runinfo) or a "
             "whole runinfo directory")
    parser.add_argument(
        "--force", action="store_true",
        help="also clean runs whose script still seems to be running")


def _resolve(run: str) -> str:
    if run.isdigit() and not os.path.exists(run):
        return os.path.join("runinfo", f"{int(run):03d}")
    return run


def run(args: argparse.Namespace) -> int:
    from plait.providers._journal import cleanup_journal, journals_under

    status = 0
    for given in args.run:
        path = _resolve(given)
        journals = list(journals_under(path))
        if not os.path.isdir(path):
            print(f"{given}: no such run directory ({path})")
            status = 1
            continue
        if not journals:
            print(f"{path}: no batch jobs were submitted by this run")
            continue
        for journal in journals:
            report = cleanup_journal(journal, force=args.force)
            where = os.path.dirname(journal)
            if report.skipped_live_owner:
                print(f"{where}: its script is still running (pid in {journal}); "
                      "stop it first or pass --force")
                status = 1
                continue
            for label, ids in (("cancelled", report.cancelled),
                               ("already ended", report.already_gone),
                               ("STILL THERE", report.still_there)):
                if ids:
                    print(f"{where}: {label}: job(s) {', '.join(ids)}")
            for error in report.errors:
                print(f"{where}: error: {error}")
            if report.still_there or report.errors:
                status = 1
            elif not (report.cancelled or report.already_gone):
                print(f"{where}: nothing left to clean")
    return status

"""``plait migrate PATH...``: rewrite Parsl scripts and notebooks to plait (diff by default)."""

from __future__ import annotations

import argparse
import sys

HELP = "Rewrite Parsl scripts, packages and notebooks to plait (prints a diff; --write)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="Python files, notebooks (.ipynb) or directories")
    parser.add_argument("--write", action="store_true",
                        help="apply the changes to the files instead of printing a diff")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if any file would change (for CI)")
    parser.add_argument("--no-report", action="store_true",
                        help="leave out the report of what plait does differently")


def run(args: argparse.Namespace) -> int:
    from plait.migrate._files import iter_files, migrate_file, write

    changed = failed = 0
    report: list[str] = []
    for path in iter_files(args.paths):
        if not path.exists():
            print(f"plait migrate: {path}: no such file", file=sys.stderr)
            failed += 1
            continue
        result = migrate_file(path)
        if result.error:
            print(f"plait migrate: {path}: {result.error}", file=sys.stderr)
            failed += 1
            continue
        if result.changed:
            changed += 1
            if args.write:
                write(result)
                print(f"migrated {path} ({result.changes} changes)")
            elif not args.check:
                sys.stdout.write(result.diff())
        report += [f"{where}: {finding.describe()}" for where, finding in result.findings]
    if report and not args.no_report:
        print("\nWhat plait does differently here (see the README's migration table):",
              file=sys.stderr)
        for line in report:
            print(f"  {line}", file=sys.stderr)
    verb = "migrated" if args.write else "would change"
    print(f"\n{changed} file(s) {verb}", file=sys.stderr)
    if failed:
        return 1
    return 1 if args.check and changed else 0

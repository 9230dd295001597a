"""``plait sites``: list, show, add, validate and update site configuration entries."""

from __future__ import annotations

import argparse
import sys
from typing import Any

HELP = "List, show, add, validate, update and check site configuration entries"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="every known site: name, scheduler, origin, last check")
    show = sub.add_parser("show", help="one site's entry, and the Python it builds")
    show.add_argument("name")
    add = sub.add_parser("add", help="validate FILE and install it as a user entry")
    add.add_argument("file")
    validate = sub.add_parser("validate", help="check FILE against the entry schema")
    validate.add_argument("file")
    check = sub.add_parser("check", help="run one task on the site and record the check")
    check.add_argument("name")
    check.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="an override (a TOML value, else a string), e.g. account=abc")
    check.add_argument("--timeout", type=float, default=300.0,
                       help="seconds to wait for the task (default 300)")
    check.add_argument("--no-record", action="store_true",
                       help="do not write the result into the user's entry")
    update = sub.add_parser("update", help="fetch a remote index of entries into the cache")
    update.add_argument("url", nargs="?", help="the index URL (HTTP(S) TOML file or a git "
                        "repository); default $PLAIT_SITES_INDEX or the last one used")


def _checked(entry: Any) -> str:
    c = entry.checked
    return f"{c.date.isoformat()} ({c.method}, {c.scheduler_version})"


def _list() -> int:
    from plait import sites

    rows = [(e.name, e.scheduler, e.executor.kind, e.origin, _checked(e), e.title)
            for e in sites.list()]
    header = ("NAME", "SCHEDULER", "EXECUTOR", "ORIGIN", "LAST CHECKED", "TITLE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _show(name: str) -> int:
    from plait import sites

    entry = sites.show(name)
    print(f"# {entry.title}  ({entry.origin}: {entry.source})")
    print(f"docs:      {entry.docs}")
    print(f"scheduler: {entry.scheduler}    auth: {entry.auth}    checked: {_checked(entry)}")
    if entry.description:
        print(entry.description)
    for group in ("executor", "provider", "launcher"):
        component = getattr(entry, group)
        if component is not None:
            params = ", ".join(f"{k}={v!r}" for k, v in component.params.items())
            print(f"{group + ':':10} {component.kind}({params})")
    if entry.address:
        print(f"address:   {entry.address}")
    if entry.config:
        print("config:    " + ", ".join(f"{k}={v!r}" for k, v in entry.config.items()))
    for key, text in entry.required.items():
        print(f"required:  {key} - {text}")
    for endpoint in entry.staging:
        print("staging:   " + ", ".join(f"{k}={v}" for k, v in endpoint.items()))
    need = ", ".join(f"{k}=..." for k in entry.required)
    print(f"\nUse it:    config = plait.sites.config({entry.name!r}{', ' + need if need else ''})")
    return 0


def _overrides(pairs: list[str]) -> dict[str, Any]:
    from plait.sites import SiteError
    from plait.sites import _toml as tomllib

    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise SiteError("plait sites check", "--set", f"{pair!r} is not KEY=VALUE")
        try:
            found[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            found[key] = text  # not a TOML value: take it as a string
    return found


def _check(args: argparse.Namespace) -> int:
    from plait.sites._check import check

    where, entry = check(args.name, _overrides(args.set), args.timeout,
                         record=not args.no_record)
    print(f"{args.name}: a task ran on {where}")
    if not args.no_record:
        print(f"recorded in {entry.source}: checked {_checked(entry)}")
    return 0


def run(args: argparse.Namespace) -> int:
    from plait import sites

    if args.action == "list":
        return _list()
    if args.action == "show":
        return _show(args.name)
    if args.action == "validate":
        entry = sites.validate(args.file)
        print(f"{args.file}: valid entry {entry.name!r} ({entry.executor.kind} on "
              f"{entry.scheduler})")
        return 0
    if args.action == "check":
        return _check(args)
    if args.action == "add":
        path = sites.add(args.file)
        print(f"installed {path}")
        return 0
    entries = sites.update(args.url)
    print(f"fetched {len(entries)} site entries: {', '.join(e.name for e in entries)}",
          file=sys.stdout)
    return 0

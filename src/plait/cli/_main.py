"""Build the ``plait`` argument parser from the command modules and run one command."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from plait._errors import PlaitError
from plait._version import __version__
from plait.cli import commands


def command_modules() -> dict[str, ModuleType]:
    """Every subcommand, by its name on the command line, sorted."""
    found = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        found[info.name.replace("_", "-")] = module
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    """The whole parser: ``plait [--version] COMMAND [options]``."""
    parser = argparse.ArgumentParser(
        prog="plait", description="plait: parallel scripting for Python, with Parsl's API.")
    parser.add_argument("--version", action="version", version=f"plait {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in command_modules().items():
        help_line: str = module.HELP
        child = sub.add_parser(name, help=help_line, description=help_line)
        module.add_arguments(child)
        child.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plait`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args._run(args)
    except PlaitError as exc:       # a known failure: its message says what to do
        print(f"plait {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status

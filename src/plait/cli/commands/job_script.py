"""``plait job-script CONFIG.py``: print the script each block of a config would be submitted
as, before anything is submitted (``provider.job_script()`` for every executor)."""

from __future__ import annotations

import argparse
import runpy
from typing import Any

HELP = "Print the batch script each executor's blocks would be submitted with (submits nothing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG.py",
                        help="a Python file defining `config` or `fresh_config()`")
    parser.add_argument("--executor", metavar="LABEL", action="append", default=[],
                        help="only this executor (repeat for several); default: all")
    parser.add_argument("--command", metavar="CMD", dest="worker_command",
                        help="the worker command to show in the script (default: a "
                             "placeholder for the command the executor makes at load)")


def _config(path: str) -> Any:
    namespace = runpy.run_path(path)
    if "fresh_config" in namespace:
        return namespace["fresh_config"]()
    if "config" in namespace:
        return namespace["config"]
    raise SystemExit(f"{path} defines neither `config` nor `fresh_config()`")


def run(args: argparse.Namespace) -> int:
    from plait.providers._cluster import PLACEHOLDER_COMMAND

    config = _config(args.config)
    executors = [ex for ex in config.executors
                 if not args.executor or ex.label in args.executor]
    missing = set(args.executor) - {ex.label for ex in config.executors}
    if missing:
        labels = ", ".join(ex.label for ex in config.executors)
        print(f"no executor labelled {', '.join(sorted(missing))} in {args.config} "
              f"(its executors: {labels})")
        return 1
    for ex in executors:
        provider = getattr(ex, "provider", None)
        if provider is None or not hasattr(provider, "job_script"):
            print(f"# executor {ex.label!r}: {type(ex).__name__} submits no batch jobs\n")
            continue
        name = f"plait.{ex.label}.block-0"
        script = provider.job_script(args.worker_command or PLACEHOLDER_COMMAND, 1, name)
        print(f"# executor {ex.label!r}: {type(provider).__name__} block script "
              f"(written to runinfo/NNN/submit_scripts/ at submission)")
        print(script.rstrip("\n") + "\n")
    print("# nothing was submitted")
    return 0

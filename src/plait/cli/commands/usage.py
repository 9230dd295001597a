"""``plait usage --show``: what opt-in usage tracking sends, and where, for a config."""

from __future__ import annotations

import argparse
import json
import runpy

HELP = "Show what usage tracking (Config(usage_tracking=1..3), off by default) would send."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show", action="store_true", required=True,
                        help="print the messages and the destination")
    parser.add_argument("--config", metavar="FILE",
                        help="a Python file defining `config` or `fresh_config()`; default: "
                             "a plain Config()")
    parser.add_argument("--level", type=int, choices=(1, 2, 3),
                        help="show this level (default: the config's level, or all three "
                             "if it has tracking off)")


def run(args: argparse.Namespace) -> int:
    from plait import Config
    from plait.usage_tracking._tracker import ENDPOINT_ENV, endpoint, messages

    if args.config:
        namespace = runpy.run_path(args.config)
        config = (namespace["fresh_config"]() if "fresh_config" in namespace
                  else namespace["config"])
    else:
        config = Config()
    destination = endpoint()
    state = (f"on, level {config.usage_tracking}" if config.usage_tracking
             else "off (the default)")
    print(f"usage tracking for this config: {state}")
    if destination is None:
        print(f"destination: none ({ENDPOINT_ENV} is not set): nothing is sent at any level")
    else:
        print(f"destination: UDP {destination[0]}:{destination[1]} (from {ENDPOINT_ENV})")
    print("sent from a daemon thread at load (and at cleanup for level 3); a missing network "
          "costs the run nothing\n")
    levels = [args.level] if args.level else (
        [config.usage_tracking] if config.usage_tracking else [1, 2, 3])
    for level in levels:
        print(f"level {level}:")
        for when, message in messages(config, level).items():
            print(f"  at {'load' if when == 'start' else 'cleanup'}: "
                  f"{json.dumps(message, sort_keys=True)}")
    return 0

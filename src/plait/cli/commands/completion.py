"""``plait completion bash|zsh|tcsh``: print a shell completion script for the whole command.

The script is generated from the same argument parser the command runs (with shtab), so it
knows every subcommand and option, including those other modules add.
"""

from __future__ import annotations

import argparse

HELP = "Print a shell completion script (bash, zsh or tcsh) for the plait command."
SHELLS = ("bash", "zsh", "tcsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS,
                        help="the shell; e.g. `plait completion bash > "
                             "/etc/bash_completion.d/plait`, or "
                             "`eval \"$(plait completion bash)\"` in ~/.bashrc")


def run(args: argparse.Namespace) -> int:
    import shtab

    from plait.cli._main import build_parser

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0

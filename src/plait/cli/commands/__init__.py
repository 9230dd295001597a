"""One module per ``plait`` subcommand, found by ``plait.cli._main`` at start.

A command module defines:

    HELP: str                                   # one line, shown by ``plait --help``
    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int    # the exit status

The module's name is the command's name (``sites.py`` is ``plait sites``; an underscore in
the name becomes a hyphen). Import heavy dependencies inside ``run``, so that ``plait --help``
stays fast.
"""

"""The ``plait`` command: one entry point, one module per subcommand in ``plait.cli.commands``."""

from plait.cli._main import main as main

__all__ = ["main"]

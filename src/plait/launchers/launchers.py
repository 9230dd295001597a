"""Parsl's ``parsl.launchers.launchers`` path: every launcher class, as in plait.launchers."""

from plait.launchers import *  # noqa: F403 - a Parsl import path, nothing of its own
from plait.launchers import __all__ as _public

# BadLauncher, the error, has its own Parsl path: plait.launchers.errors
__all__ = [name for name in _public if name != "BadLauncher"]

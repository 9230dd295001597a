"""Parsl's ``parsl.app.bash`` path: the BashApp class."""

from plait.app._decorators import BashApp as BashApp

__all__ = ["BashApp"]

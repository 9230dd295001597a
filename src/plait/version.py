"""Parsl's ``parsl.version`` path: ``VERSION``, the release string (plait's)."""

from plait._version import __version__ as VERSION

__all__ = ["VERSION"]

"""Parsl-compatible import path: ``from plait.data_provider.files import File``."""

from plait.data._files import File as File

__all__ = ["File"]

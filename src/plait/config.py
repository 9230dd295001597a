"""Parsl-compatible import path: ``from plait.config import Config``."""

from plait._config import Config as Config

__all__ = ["Config"]

"""Parsl-compatible import path: ``from plait.data_provider.staging import Staging``."""

from plait.data._staging import Staging as Staging

__all__ = ["Staging"]

"""Parsl-compatible import path: ``from plait.data_provider.rsync import RSyncStaging``."""

from plait.data._rsync import RSyncStaging as RSyncStaging

__all__ = ["RSyncStaging"]

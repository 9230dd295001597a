"""Parsl-compatible import path: ``from plait.data_provider.file_noop import NoOpFileStaging``."""

from plait.data._noop import NoOpFileStaging as NoOpFileStaging

__all__ = ["NoOpFileStaging"]

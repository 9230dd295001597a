"""Parsl-compatible import path: ``from plait.data_provider.zip import ZipFileStaging``."""

from plait.data._errors import ZipAuthorityError as ZipAuthorityError
from plait.data._zip import ZipFileStaging as ZipFileStaging

__all__ = ["ZipAuthorityError", "ZipFileStaging"]

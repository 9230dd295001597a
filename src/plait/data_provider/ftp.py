"""Parsl-compatible import path: ``from plait.data_provider.ftp import FTPInTaskStaging``."""

from plait.data._ftp import FTPInTaskStaging as FTPInTaskStaging
from plait.data._ftp import FTPSeparateTaskStaging as FTPSeparateTaskStaging

__all__ = ["FTPInTaskStaging", "FTPSeparateTaskStaging"]

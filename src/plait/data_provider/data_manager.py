"""Parsl-compatible import path for the DataManager and the default staging providers."""

from plait.data._defaults import default_staging as default_staging
from plait.data._manager import DataManager as DataManager

__all__ = ["DataManager", "default_staging"]

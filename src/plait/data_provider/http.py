"""Parsl-compatible import path: ``from plait.data_provider.http import HTTPInTaskStaging``."""

from plait.data._http import HTTPInTaskStaging as HTTPInTaskStaging
from plait.data._http import HTTPSeparateTaskStaging as HTTPSeparateTaskStaging

__all__ = ["HTTPInTaskStaging", "HTTPSeparateTaskStaging"]

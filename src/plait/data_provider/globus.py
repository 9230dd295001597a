"""Parsl-compatible import path: ``from plait.data_provider.globus import GlobusStaging``
(needs the ``globus`` extra, globus-sdk)."""

from plait.data._globus import GlobusStaging as GlobusStaging

__all__ = ["GlobusStaging"]

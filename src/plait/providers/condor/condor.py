"""Parsl's ``parsl.providers.condor.condor`` path: CondorProvider."""

from plait.providers._condor import CondorProvider as CondorProvider

__all__ = ["CondorProvider"]

"""Parsl's ``parsl.providers.lsf.lsf`` path: LSFProvider."""

from plait.providers._lsf import LSFProvider as LSFProvider

__all__ = ["LSFProvider"]

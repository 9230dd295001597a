"""Parsl's ``parsl.providers.local.local`` path: LocalProvider."""

from plait.providers._local import LocalProvider as LocalProvider

__all__ = ["LocalProvider"]

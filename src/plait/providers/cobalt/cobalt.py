"""Parsl's ``parsl.providers.cobalt.cobalt`` path: CobaltProvider."""

from plait.providers._cobalt import CobaltProvider as CobaltProvider

__all__ = ["CobaltProvider"]

"""Parsl's ``parsl.providers.flux.flux`` path: FluxProvider."""

from plait.providers._flux import FluxProvider as FluxProvider

__all__ = ["FluxProvider"]

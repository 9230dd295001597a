"""Parsl's ``parsl.providers.grid_engine.grid_engine`` path: GridEngineProvider."""

from plait.providers._gridengine import GridEngineProvider as GridEngineProvider

__all__ = ["GridEngineProvider"]

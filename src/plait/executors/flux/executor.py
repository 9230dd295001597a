"""Parsl's ``parsl.executors.flux.executor`` path: FluxExecutor (not shipped)."""

from plait.executors._not_shipped import FluxExecutor as FluxExecutor

__all__ = ["FluxExecutor"]

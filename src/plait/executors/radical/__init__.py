"""Parsl's ``parsl.executors.radical`` path: RadicalPilotExecutor (not shipped)."""

from plait.executors._not_shipped import RadicalPilotExecutor as RadicalPilotExecutor
from plait.executors._not_shipped import ResourceConfig as ResourceConfig

__all__ = ["RadicalPilotExecutor", "ResourceConfig"]

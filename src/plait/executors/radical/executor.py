"""Parsl's ``parsl.executors.radical.executor`` path: RadicalPilotExecutor (not shipped)."""

from plait.executors._not_shipped import RadicalPilotExecutor as RadicalPilotExecutor

__all__ = ["RadicalPilotExecutor"]

"""Parsl's ``parsl.executors.taskvine.manager_config`` path: TaskVineManagerConfig (not shipped)."""

from plait.executors._not_shipped import TaskVineManagerConfig as TaskVineManagerConfig

__all__ = ["TaskVineManagerConfig"]

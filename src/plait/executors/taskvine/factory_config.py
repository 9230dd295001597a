"""Parsl's ``parsl.executors.taskvine.factory_config`` path: TaskVineFactoryConfig (not shipped)."""

from plait.executors._not_shipped import TaskVineFactoryConfig as TaskVineFactoryConfig

__all__ = ["TaskVineFactoryConfig"]

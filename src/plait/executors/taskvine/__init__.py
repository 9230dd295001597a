"""Parsl's ``parsl.executors.taskvine`` path: TaskVineExecutor (not shipped) and its settings."""

from plait.executors._not_shipped import TaskVineExecutor as TaskVineExecutor
from plait.executors._not_shipped import TaskVineFactoryConfig as TaskVineFactoryConfig
from plait.executors._not_shipped import TaskVineManagerConfig as TaskVineManagerConfig

__all__ = ["TaskVineExecutor", "TaskVineFactoryConfig", "TaskVineManagerConfig"]

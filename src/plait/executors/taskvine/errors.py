"""Parsl's ``parsl.executors.taskvine.errors`` path (importable; never raised by plait)."""

from plait.executors._not_shipped import TaskVineFactoryFailure as TaskVineFactoryFailure
from plait.executors._not_shipped import TaskVineManagerFailure as TaskVineManagerFailure
from plait.executors._not_shipped import TaskVineTaskFailure as TaskVineTaskFailure

__all__ = ["TaskVineFactoryFailure", "TaskVineManagerFailure", "TaskVineTaskFailure"]

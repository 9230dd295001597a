"""Parsl's ``parsl.executors.taskvine.executor`` path: TaskVineExecutor (not shipped)."""

from plait.executors._not_shipped import TaskVineExecutor as TaskVineExecutor

__all__ = ["TaskVineExecutor"]

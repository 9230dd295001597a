"""Parsl's ``parsl.executors.workqueue.errors`` path (importable; never raised by plait)."""

from plait.executors._not_shipped import WorkQueueFailure as WorkQueueFailure
from plait.executors._not_shipped import WorkQueueTaskFailure as WorkQueueTaskFailure

__all__ = ["WorkQueueFailure", "WorkQueueTaskFailure"]

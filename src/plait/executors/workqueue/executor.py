"""Parsl's ``parsl.executors.workqueue.executor`` path: WorkQueueExecutor (not shipped)."""

from plait.executors._not_shipped import WorkQueueExecutor as WorkQueueExecutor

__all__ = ["WorkQueueExecutor"]

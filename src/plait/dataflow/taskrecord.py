"""Parsl's ``parsl.dataflow.taskrecord`` path: the task record an AppFuture carries."""

from plait.dataflow._task import Task as TaskRecord

__all__ = ["TaskRecord"]

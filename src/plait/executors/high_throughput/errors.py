"""Parsl's ``parsl.executors.high_throughput.errors`` path: lost managers and workers."""

from plait.executors._errors import ManagerLost as ManagerLost
from plait.executors._errors import VersionMismatch as VersionMismatch
from plait.executors._errors import WorkerLost as WorkerLost

__all__ = ["ManagerLost", "VersionMismatch", "WorkerLost"]

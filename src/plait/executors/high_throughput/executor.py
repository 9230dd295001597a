"""Parsl's ``parsl.executors.high_throughput.executor`` path: HighThroughputExecutor."""

from plait.executors.pilot._executor import HighThroughputExecutor as HighThroughputExecutor

__all__ = ["HighThroughputExecutor"]

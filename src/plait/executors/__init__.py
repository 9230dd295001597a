"""Executors: where tasks run. ``HighThroughputExecutor`` loads ZeroMQ on first use."""

from plait.executors._base import Executor as Executor
from plait.executors._base import ParslExecutor as ParslExecutor
from plait.executors._threads import ThreadPoolExecutor as ThreadPoolExecutor

__all__ = ["Executor", "HighThroughputExecutor", "ParslExecutor", "ThreadPoolExecutor"]


def __getattr__(name: str) -> object:
    if name == "HighThroughputExecutor":  # imports zmq: only when asked for
        from plait.executors.pilot._executor import HighThroughputExecutor

        return HighThroughputExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Executors: where tasks run. The pilot executors load ZeroMQ on first use.

WorkQueueExecutor, FluxExecutor and GlobusComputeExecutor keep Parsl's names so that configs
import; building one raises ExecutorNotShipped, which says what to use instead.
"""

from plait.executors._base import Executor as Executor
from plait.executors._base import ParslExecutor as ParslExecutor
from plait.executors._not_shipped import FluxExecutor as FluxExecutor
from plait.executors._not_shipped import GlobusComputeExecutor as GlobusComputeExecutor
from plait.executors._not_shipped import WorkQueueExecutor as WorkQueueExecutor
from plait.executors._threads import ThreadPoolExecutor as ThreadPoolExecutor

__all__ = ["Executor", "FluxExecutor", "GlobusComputeExecutor", "HighThroughputExecutor",
           "MPIExecutor", "ParslExecutor", "ThreadPoolExecutor", "WorkQueueExecutor"]


def __getattr__(name: str) -> object:
    if name == "HighThroughputExecutor":  # imports zmq: only when asked for
        from plait.executors.pilot._executor import HighThroughputExecutor

        return HighThroughputExecutor
    if name == "MPIExecutor":
        from plait.executors.pilot._mpi import MPIExecutor

        return MPIExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

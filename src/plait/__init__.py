"""plait: parallel scripting for Python, with Parsl's API.

Layers (each imports only those below it; see DESIGN.md):
    plait (this face) → app → dataflow → data → executors → scaling → providers →
    launchers → transport → serialize → errors, config

Everything public is importable from here or from plait.errors, plait.executors,
plait.providers, plait.launchers, plait.data; the rest is private. The kernel, executors
beyond threads, ZeroMQ and databases load on first use, so ``import plait`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait._config import Config as Config
from plait._log_utils import set_file_logger as set_file_logger
from plait._log_utils import set_stream_logger as set_stream_logger
from plait._version import __version__ as __version__
from plait.app._decorators import bash_app as bash_app
from plait.app._decorators import join_app as join_app
from plait.app._decorators import python_app as python_app
from plait.data._files import File as File
from plait.data._futures import DataFuture as DataFuture
from plait.dataflow._loader import DataFlowKernelLoader as DataFlowKernelLoader
from plait.dataflow._loader import clear as clear
from plait.dataflow._loader import dfk as dfk
from plait.dataflow._loader import load as load
from plait.dataflow._loader import wait_for_current_tasks as wait_for_current_tasks
from plait.executors._not_shipped import WorkQueueExecutor as WorkQueueExecutor
from plait.executors._threads import ThreadPoolExecutor as ThreadPoolExecutor

if TYPE_CHECKING:
    from plait.dataflow._checkpoint import CheckpointWarning as CheckpointWarning
    from plait.dataflow._checkpoint import get_all_checkpoints as get_all_checkpoints
    from plait.dataflow._checkpoint import get_last_checkpoint as get_last_checkpoint
    from plait.dataflow._events import TaskStateChanged as TaskStateChanged
    from plait.dataflow._failures import FailedTask as FailedTask
    from plait.dataflow._futures import AppFuture as AppFuture
    from plait.dataflow._hashing import id_for_memo as id_for_memo
    from plait.dataflow._kernel import DataFlowKernel as DataFlowKernel
    from plait.dataflow._memo import BasicMemoizer as BasicMemoizer
    from plait.dataflow._memoizer import Memoizer as Memoizer
    from plait.dataflow._retry import RetryBackoff as RetryBackoff
    from plait.dataflow._states import States as States
    from plait.executors.pilot._executor import (
        HighThroughputExecutor as HighThroughputExecutor,
    )
    from plait.monitoring._hub import MonitoringHub as MonitoringHub

AUTO_LOGNAME = -1
"""Pass as ``stdout=``/``stderr=`` for one log file per task under ``<run_dir>/task_logs``."""

__all__ = [
    "AUTO_LOGNAME",
    "AppFuture",
    "BasicMemoizer",
    "CheckpointWarning",
    "Config",
    "DataFlowKernel",
    "DataFlowKernelLoader",
    "DataFuture",
    "FailedTask",
    "File",
    "HighThroughputExecutor",
    "Memoizer",
    "MonitoringHub",
    "RetryBackoff",
    "States",
    "TaskStateChanged",
    "ThreadPoolExecutor",
    "WorkQueueExecutor",
    "bash_app",
    "clear",
    "dfk",
    "get_all_checkpoints",
    "get_last_checkpoint",
    "id_for_memo",
    "join_app",
    "load",
    "python_app",
    "set_file_logger",
    "set_stream_logger",
    "wait_for_current_tasks",
]

_LAZY = {
    "AppFuture": "plait.dataflow._futures",
    "BasicMemoizer": "plait.dataflow._memo",
    "CheckpointWarning": "plait.dataflow._checkpoint",
    "FailedTask": "plait.dataflow._failures",
    "Memoizer": "plait.dataflow._memoizer",
    "TaskStateChanged": "plait.dataflow._events",
    "get_all_checkpoints": "plait.dataflow._checkpoint",
    "get_last_checkpoint": "plait.dataflow._checkpoint",
    "id_for_memo": "plait.dataflow._hashing",
    "DataFlowKernel": "plait.dataflow._kernel",
    "HighThroughputExecutor": "plait.executors.pilot._executor",
    "MonitoringHub": "plait.monitoring._hub",
    "RetryBackoff": "plait.dataflow._retry",
    "States": "plait.dataflow._states",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'plait' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

"""The special keyword arguments of an app call that the kernel itself reads:
``parsl_resource_specification``, ``stdout``/``stderr`` (with AUTO_LOGNAME) and ``outputs``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.data._files import File
from plait.data._futures import DataFuture
from plait.dataflow._futures import AppFuture
from plait.dataflow._task import Task

AUTO_LOGNAME = -1
"""Give as ``stdout=``/``stderr=`` to get a file per task under ``<run_dir>/task_logs``."""


def read_special_kwargs(task: Task, fut: AppFuture, kwargs: dict[str, Any], run_dir: str,
                        std_autopath: Callable[[Task, str], Any] | None) -> None:
    """Copy what the kernel needs from ``kwargs`` onto ``task``; fill in AUTO_LOGNAME paths."""
    spec = kwargs.get("parsl_resource_specification")
    if spec:
        task.resource_specification = spec
    for stream in ("stdout", "stderr"):
        value = kwargs.get(stream)
        if type(value) is int and value == AUTO_LOGNAME:
            kwargs[stream] = (std_autopath(task, stream) if std_autopath is not None else
                              auto_logname(task, stream, kwargs.get("label"), run_dir))
            task.ignore_for_cache = (*task.ignore_for_cache, stream)
    task.stdout, task.stderr = kwargs.get("stdout"), kwargs.get("stderr")
    outputs = kwargs.get("outputs")
    if outputs:
        task.outputs = [DataFuture(fut, f, task.id) for f in outputs if isinstance(f, File)]


def auto_logname(task: Task, stream: str, label: object, run_dir: str) -> str:
    """``<run_dir>/task_logs/0000/task_0012_myapp[_label].stdout``."""
    suffix = f"_{label}" if label else ""
    return (f"{run_dir}/task_logs/{task.id // 10000:04d}/"
            f"task_{task.id:04d}_{task.func_name}{suffix}.{stream}")

"""The interface every executor implements; the kernel knows nothing else about executors.

The kernel sets ``run_dir`` and ``run_id`` and then calls ``start()``; it calls
``submit(func, resource_specification, *args, **kwargs)`` and watches the returned Future;
at cleanup it calls ``shutdown()``. Executors that hold blocks (pilot jobs) also implement
the block interface used by the scaling strategy: ``outstanding``, ``status()``,
``scale_out(n)`` and ``scale_in(n)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any


class Executor(ABC):
    """Runs tasks handed over by the DataFlowKernel (Parsl's ``ParslExecutor``)."""

    label: str = "undefined"
    #: set by the kernel before start(): this run's directory and id
    run_dir: str = "."
    run_id: str = ""
    #: whether a task can be lost with a worker, node or block (then the kernel keeps its
    #: arguments for an infrastructure retry); False for in-process threads
    tasks_can_be_lost: bool = True
    #: set by the monitoring hub before start(), for executors whose monitor_resources() is
    #: True: {"interval": seconds, "radio": the radio's spec} for the workers, and where
    #: samples go, as [(the task's future from submit(), sample fields...)]
    monitoring_spec: dict[str, Any] | None = None
    monitoring_sink: Callable[[Sequence[tuple[Future[Any], tuple[Any, ...]]]], None] | None = None

    def start(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Start the executor's threads or processes; the kernel calls it once, at load."""

    @abstractmethod
    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any],
        *args: Any, **kwargs: Any,
    ) -> Future[Any]:
        """Run ``func(*args, **kwargs)``; return a Future that completes with its outcome.

        Must not block on the task, and must raise (or return a failed Future) with an error
        naming the problem when the task cannot be accepted.
        """

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Stop the executor and release everything it started; idempotent.

        With ``wait=False`` (an interrupted run) it must not wait for running tasks.
        """

    def monitor_resources(self) -> bool:
        """Whether the monitoring layer may sample the resource use of this executor's tasks."""
        return False

    def monitoring_samples(self, records: list[tuple[Any, ...]]) -> None:  # noqa: B027
        """Samples that arrived by radio, each starting with this executor's task id:
        executors that sample map the ids to their futures and pass them to
        ``monitoring_sink``."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()


ParslExecutor = Executor

"""AppFuture: the future an app call returns, bound to its task record."""

from __future__ import annotations

import operator
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from plait._errors import TaskCancelled
from plait._lightfuture import LightFuture

if TYPE_CHECKING:
    from plait.data._futures import DataFuture
    from plait.dataflow._task import Task


class TaskControl(Protocol):
    """What an AppFuture may ask of the kernel that made it: the narrow way back up."""

    def cancel_task(self, task: Task) -> bool: ...

    def submit_lifted(self, op: Callable[[Any, Any], Any], fut: AppFuture,
                      key: Any) -> AppFuture: ...


class AppFuture(LightFuture[Any]):
    """The future of one app invocation (Parsl's ``AppFuture``).

    Its result or exception is set once, when the task reaches a final state: failures that
    will be retried never show here. ``cancel()`` cancels a task that has not started.
    """

    __slots__ = ("_control",)
    task: Task  # LightFuture's slot: this future's task record

    def __init__(self, task: Task, control: TaskControl) -> None:
        super().__init__()
        self.task = task
        self._control = control

    @property
    def tid(self) -> int:
        """The task id: 0, 1, 2… per kernel, in submission order."""
        return self.task.id

    @property
    def task_record(self) -> Task:
        """The task's record (id, state, tries, times…)."""
        return self.task

    @property
    def outputs(self) -> list[DataFuture]:
        """One DataFuture per File given in ``outputs=``."""
        return self.task.outputs or []

    @property
    def _outputs(self) -> list[DataFuture]:
        """Parsl's private name for ``outputs``, which Parsl-style staging providers use."""
        return self.outputs

    @property
    def stdout(self) -> Any:
        """The ``stdout`` the app was given (path, (path, mode) or None), or the
        DataFuture of a File given as stdout."""
        return self.task.stdout

    @property
    def stderr(self) -> Any:
        """The ``stderr`` the app was given (path, (path, mode) or None), or the
        DataFuture of a File given as stderr."""
        return self.task.stderr

    def task_status(self) -> str:
        """The name of the task's state, e.g. ``'pending'`` or ``'exec_done'``."""
        return self.task.state.name

    def describe(self) -> str:
        """How dependency errors name this future."""
        return self.task.describe()

    def cancel(self) -> bool:
        """Cancel the task if it has not started running; its dependents fail with
        DependencyError naming the cancellation. Returns whether it was cancelled."""
        return self._control.cancel_task(self.task)

    def __getitem__(self, key: Any) -> AppFuture:
        """A future of ``result[key]``, computed when this one completes (no blocking)."""
        return self._control.submit_lifted(operator.getitem, self, key)

    def __getattr__(self, name: str) -> AppFuture:
        """A future of ``result.name`` (names starting with ``_`` are not lifted)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return self._control.submit_lifted(getattr, self, name)

    def __repr__(self) -> str:
        return f"<AppFuture task {self.task.id} ({self.task.func_name}) {self.task.state.name}>"


def failure_of(fut: Future[Any]) -> BaseException:
    """The exception a failed or cancelled future stands for."""
    if not fut.cancelled():
        exc = fut.exception()
        assert exc is not None
        return exc
    if isinstance(fut, AppFuture):
        return TaskCancelled(fut.task.id, fut.task.func_name)
    return TaskCancelled(-1, repr(fut))

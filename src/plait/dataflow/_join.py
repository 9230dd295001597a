"""Join apps: once a join app's body returns futures, wait for them and finish the task."""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any

from plait._errors import JoinError, describe_future
from plait.dataflow._states import States

if TYPE_CHECKING:
    from plait.dataflow._kernel import DataFlowKernel
    from plait.dataflow._task import Task


class Joiner:
    """Counts down the futures a join app returned, then completes its task."""

    def __init__(self, kernel: DataFlowKernel) -> None:
        self._kernel = kernel

    def start(self, task: Task, inner: Any) -> None:
        """``task``'s body returned ``inner``: a future, or a list of futures."""
        kernel, book = self._kernel, self._kernel._book
        if isinstance(inner, Future):
            joins = [inner]
        elif isinstance(inner, list) and all(isinstance(f, Future) for f in inner):
            joins = inner
        else:
            kernel._try_failed(task, TypeError(
                f"join_app {task.func_name} must return a Future or a list of Futures, "
                f"not {type(inner).__name__}: call other apps inside it and return their "
                "futures"))
            return
        with book.lock_for(task):
            if task.state is not States.launched:
                return
            event = book.move(task, States.joining, "waiting for the futures it returned")
            task.joins, task.waiting = joins, len(joins) + 1
            task.args = (inner,)  # remembers whether one future or a list was returned
        book.emit(event)
        callback = partial(self._one_done, task)
        for f in joins:
            f.add_done_callback(callback)
        self._one_done(task)

    def _one_done(self, task: Task, _: object = None) -> None:
        from plait.dataflow._kernel import failure_of

        with self._kernel._book.lock_for(task):
            task.waiting -= 1
            if task.waiting:
                return
        joins = task.joins or []
        failed = [(failure_of(f), describe_future(f))
                  for f in joins if f.cancelled() or f.exception() is not None]
        single = task.args is not None and isinstance(task.args[0], Future)
        if failed:
            self._kernel._finish(task, States.failed, None,
                                 JoinError(failed, task.id, task.func_name),
                                 "a joined future failed")
        elif single:
            self._kernel._finish(task, States.exec_done, joins[0].result(), None, "joined")
        else:
            self._kernel._finish(task, States.exec_done, [f.result() for f in joins], None,
                                 "joined")

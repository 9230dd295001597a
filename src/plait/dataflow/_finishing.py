"""Finishing a task: its final move, the memo and failure records, and its future's outcome.

The move and taking the future off the record happen under the task's lock (``settle``);
recording, telling subscribers and completing the future happen after it is released
(``complete``), because completing runs the future's callbacks: dependents, user code.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from plait._lightfuture import LightFuture
from plait.dataflow._book import Moved, TaskBook
from plait.dataflow._decisions import Finish
from plait.dataflow._failures import FailureLog
from plait.dataflow._memoizer import Memoizer
from plait.dataflow._states import States
from plait.dataflow._task import Task

log = logging.getLogger("plait.dataflow")
S = States


class Finisher:
    """Moves tasks to final states and completes their futures, for one kernel."""

    def __init__(self, book: TaskBook, memoizer: Memoizer | None, failures: FailureLog) -> None:
        self._book, self._memoizer, self._failures = book, memoizer, failures

    def finish(self, task: Task, finish: Finish, expect: States, result: Any = None) -> bool:
        """Move ``task`` from ``expect`` to ``finish.state`` and complete its future; False
        (nothing done) if it is no longer in ``expect``. ``result`` stands in for
        ``finish.result`` when given (the shared ``DONE`` carries none)."""
        with self._book.lock_for(task):  # settle(), inlined: this is every task's path
            moved = self._book.move(task, finish.state, finish.why, expect)
            if not moved:
                return False
            fut, task.future = task.future, None
        self.complete(task, fut, moved, finish, result)
        return True

    def settle(self, task: Task, finish: Finish,
               expect: States) -> tuple[Moved, LightFuture[Any] | None]:
        """The locked half: the move, and taking the future off the record (which breaks
        the cycle: the future keeps the task). Call with the task's lock held."""
        moved = self._book.move(task, finish.state, finish.why, expect)
        if not moved:
            return moved, None
        fut, task.future = task.future, None
        return moved, fut

    def complete(self, task: Task, fut: LightFuture[Any] | None, moved: Moved,
                 finish: Finish, result: Any = None) -> None:
        """The unlocked half: record, tell subscribers, and complete the future."""
        state, exc = finish.state, finish.exception
        if result is None:
            result = finish.result
        task.time_returned = time.time()
        task.args = task.kwargs = task.depends = None
        if task.hashsum is not None and self._memoizer is not None and state is not S.cancelled:
            self._record_memo(task, state, result, exc)
        if state is S.failed or state is S.cancelled:
            self._failures.task_failed(task, exc)
        if moved is not True and moved is not False:  # True: nobody subscribed (emit()
            # inlined on the hot path; no typing.cast, a call per event)
            self._book.events.emit(moved)
        assert fut is not None
        if state is S.cancelled:
            LightFuture.cancel(fut)  # the future's own cancel, not AppFuture's (the kernel's)
        elif exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)

    def _record_memo(self, task: Task, state: States, result: Any,
                     exc: BaseException | None) -> None:
        assert self._memoizer is not None
        try:
            if state is S.exec_done:
                self._memoizer.update_memo_result(task, result)
            elif exc is not None:
                self._memoizer.update_memo_exception(task, exc)
        except Exception:
            log.exception("could not record the result of %s for memoization",
                          task.describe())

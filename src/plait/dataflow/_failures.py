"""The failures of a run: each failed task, its exception and tries, and what it blocked."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from plait.dataflow._futures import AppFuture
from plait.dataflow._states import States
from plait.dataflow._task import Task, TryRecord


@dataclass
class FailedTask:
    """A task that failed (or was cancelled) in this run.

    ``blocked`` lists ``(task_id, app name)`` of every task that did not run because of
    it, directly or through a chain of dependencies, in the order they were given up.
    """

    task_id: int
    func_name: str
    state: States
    exception: BaseException | None
    tries: list[TryRecord]
    blocked: list[tuple[int, str]] = field(default_factory=list)


class FailureLog:
    """Records failures as tasks end; memory grows with failures only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[int, FailedTask] = {}

    def task_failed(self, task: Task, exception: BaseException | None) -> None:
        """``task`` ended in failed or cancelled."""
        record = FailedTask(task.id, task.func_name, task.state, exception, task.tries)
        with self._lock:
            self._failed[task.id] = record

    def task_blocked(self, task: Task, failed_deps: list[Future[Any]]) -> None:
        """``task`` ended in dep_fail because ``failed_deps`` failed."""
        roots: set[int] = set()
        for dep in failed_deps:
            if isinstance(dep, AppFuture):
                roots.update(dep.task.blocked_by or (dep.task.id,))
        task.blocked_by = tuple(sorted(roots))
        with self._lock:
            for root in task.blocked_by:
                if root in self._failed:
                    self._failed[root].blocked.append((task.id, task.func_name))

    def failed_tasks(self) -> list[FailedTask]:
        """Every failure so far, in task id order."""
        with self._lock:
            return [self._failed[k] for k in sorted(self._failed)]

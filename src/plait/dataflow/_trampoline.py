"""Trampoline: runs kernel steps one after another on the thread that started the first.

A completion can trigger more work (a finished task launches its dependents, which may
finish at once and launch theirs...). Run as nested calls, a chain of 10^5 tasks would
overflow the stack; queued per thread and drained in a loop, it never recurses.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from plait.dataflow._task import Task

Step = Callable[[Task], None]


class Trampoline:
    """``soon(fn, task)`` runs ``fn(task)`` now unless this thread is already draining, in
    which case it is queued; a step that raises is handed to ``on_error`` (never lost).

    A method, not ``__call__``: the kernel keeps the bound ``soon``, whose calls cost half
    as much as calling an instance (one per task of a dependent chain)."""

    def __init__(self, on_error: Callable[[Task, Exception], None]) -> None:
        self._local = threading.local()
        self._on_error = on_error

    def soon(self, fn: Step, task: Task) -> None:
        local = self._local
        queue: deque[tuple[Step, Task]] | None = getattr(local, "q", None)
        if queue is not None:
            queue.append((fn, task))
            return
        local.q = queue = deque([(fn, task)])
        try:
            while queue:
                fn, task = queue.popleft()
                try:
                    fn(task)
                except Exception as exc:
                    self._on_error(task, exc)
        finally:
            local.q = None

"""TaskBook: the kernel's table of live tasks, their state counts, and the one place that
moves a task from state to state (emitting the event subscribers see)."""

from __future__ import annotations

import logging
import threading
import time

from plait.dataflow._events import Subscriber, Subscribers, TaskStateChanged
from plait.dataflow._states import FINAL_STATES, InvalidTransition, States, is_legal
from plait.dataflow._task import Task

log = logging.getLogger("plait.dataflow")

_STRIPES = 64  # locks shared by task id, so that a task costs no lock of its own


class TaskBook:
    """Live tasks by id, counts per state, and state moves.

    ``lock_for(task)`` guards a task's ``state`` and countdown fields; ``move`` must be
    called with it held, and returns the event to ``emit`` once it is released.
    """

    def __init__(self, keep_finished: bool) -> None:
        self.tasks: dict[int, Task] = {}
        self.keep_finished = keep_finished
        self.stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._counts_lock = threading.Lock()
        self._idle = threading.Condition(self._counts_lock)
        self._counts = dict.fromkeys(States, 0)
        self._live = 0
        self._waiters = 0
        self.events = Subscribers()

    def lock_for(self, task: Task) -> threading.Lock:
        return self.stripes[task.id % _STRIPES]

    def add(self, task: Task) -> None:
        """Register a new task in state ``pending``."""
        with self._counts_lock:
            self._counts[States.pending] += 1
            self._live += 1
        self.tasks[task.id] = task
        if self.events.callbacks:
            self.events.emit(TaskStateChanged(task.id, task.func_name, States.pending,
                                              States.pending, task.time_invoked, 0,
                                              "submitted"))

    def move(self, task: Task, new: States, why: str) -> TaskStateChanged | None:
        """Change ``task``'s state (its lock held); the only code that does."""
        old = task.state
        if not is_legal(old, new):
            raise InvalidTransition(task.id, old, new, why)
        task.state = new
        with self._counts_lock:
            self._counts[old] -= 1
            self._counts[new] += 1
            if new in FINAL_STATES:
                self._live -= 1
                if self._live == 0 and self._waiters:
                    self._idle.notify_all()
        if new in FINAL_STATES and not self.keep_finished:
            self.tasks.pop(task.id, None)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task %d: %s -> %s (%s)", task.id, old.name, new.name, why)
        if not self.events.callbacks:
            return None
        return TaskStateChanged(task.id, task.func_name, old, new, time.time(), task.try_id, why)

    def emit(self, event: TaskStateChanged | None) -> None:
        if event is not None:
            self.events.emit(event)

    def subscribe(self, callback: Subscriber) -> object:
        return self.events.add(callback)

    def counts(self) -> dict[States, int]:
        with self._counts_lock:
            return dict(self._counts)

    def wait_idle(self, timeout: float | None) -> None:
        """Block until no task is left in a non-final state."""
        with self._idle:
            self._waiters += 1
            try:
                if not self._idle.wait_for(lambda: self._live == 0, timeout):
                    raise TimeoutError(f"{self._live} tasks still unfinished after {timeout} s")
            finally:
                self._waiters -= 1

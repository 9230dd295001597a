"""TaskBook: the kernel's table of live tasks, their state counts, and the one place that
moves a task from state to state (emitting the event subscribers see)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from plait.dataflow._events import Subscriber, Subscribers, TaskStateChanged
from plait.dataflow._states import FINAL_STATES, MOVES_FROM, InvalidTransition, States, Story
from plait.dataflow._task import Task

# Events are built as plain tuples of the NamedTuple's type: half the cost of its generated
# __new__ (three events per task, whenever anything subscribes).
_event = tuple.__new__
log = logging.getLogger("plait.dataflow")

_STRIPES = 64  # locks shared by task id, so that a task costs no lock of its own
# The journal of recent moves, all tasks together: an illegal move reports the story of its
# task from it. One ring per kernel instead of a history per task keeps a task in flight as
# small as it was (a deque per task would cost ~760 bytes); the price is that the story of
# a task idle for the last _JOURNAL moves is gone, which the error then says.
_JOURNAL = 4096

Moved = TaskStateChanged | bool
"""What ``move`` returns: False for a stale decision (nothing moved), else the event to
emit, or True when nobody subscribed (both are truthy)."""


class TaskBook:
    """Live tasks by id, counts per state, and state moves.

    ``lock_for(task)`` guards a task's ``state`` and countdown fields; ``move`` must be
    called with it held, and returns what to ``emit`` once it is released. The counts are
    kept per lock stripe, under the stripe's lock, so a move takes no lock of its own.
    """

    def __init__(self, keep_finished: bool) -> None:
        self.tasks: dict[int, Task] = {}
        self.keep_finished = keep_finished
        self.stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._counts = [dict.fromkeys(States, 0) for _ in range(_STRIPES)]
        self._live = [0] * _STRIPES  # tasks not yet final, per stripe
        self._idle = threading.Condition()
        self._waiters = 0
        self.events = Subscribers()
        self._journal: deque[tuple[int, States, States, str]] = deque(maxlen=_JOURNAL)
        self._note = self._journal.append

    def lock_for(self, task: Task) -> threading.Lock:
        return self.stripes[task.id % _STRIPES]

    def add(self, task: Task) -> None:
        """Register a new task in state ``pending``."""
        stripe = task.id % _STRIPES
        with self.stripes[stripe]:
            self._counts[stripe][States.pending] += 1
            self._live[stripe] += 1
        self.tasks[task.id] = task
        if self.events.callbacks:
            self.events.emit(_event(TaskStateChanged, (task.id, task.func_name, States.pending,
                                                       States.pending, task.time_invoked, 0,
                                                       "submitted")))

    def move(self, task: Task, new: States, why: str, expect: States) -> Moved:
        """Move ``task`` from ``expect`` to ``new``; the only code that sets a task's state.

        Call with ``lock_for(task)`` held, from a decision taken under that same hold or
        that names the state it was taken in: if the task has left ``expect`` meanwhile
        (cancelled, cleaned up, finished by another thread), the decision is stale and
        nothing happens (False). Emit what it returns once the lock is released.

        Raises:
            InvalidTransition: ``expect -> new`` is not a declared move (a plait bug).
        """
        old = task.state
        if old is not expect:
            self._note((task.id, old, new, f"stale, ignored: expected {expect.name} ({why})"))
            if log.isEnabledFor(logging.DEBUG):
                log.debug("task %d: stale move %s -> %s ignored, it is %s (%s)", task.id,
                          expect.name, new.name, old.name, why)
            return False
        if new not in MOVES_FROM[old]:
            raise InvalidTransition(task.id, old, new, why, self.story_of(task.id))
        task.state = new
        self._note((task.id, old, new, why))
        stripe = task.id % _STRIPES
        counts = self._counts[stripe]
        counts[old] -= 1
        counts[new] += 1
        if new in FINAL_STATES:
            live = self._live
            live[stripe] -= 1
            if self._waiters and not live[stripe]:  # maybe the last: let wait_idle() look
                with self._idle:
                    self._idle.notify_all()
            if not self.keep_finished:
                self.tasks.pop(task.id, None)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task %d: %s -> %s (%s)", task.id, old.name, new.name, why)
        if not self.events.callbacks:
            return True
        return _event(TaskStateChanged,
                      (task.id, task.func_name, old, new, time.time(), task.try_id, why))

    def story_of(self, task_id: int) -> Story:
        """The moves of ``task_id`` still in the journal, oldest first."""
        return tuple((old.name, new.name, why)
                     for tid, old, new, why in self._journal.copy() if tid == task_id)

    def emit(self, moved: Moved) -> None:
        """Send the event of a move to the subscribers (nothing for a stale or quiet one)."""
        if moved is not True and moved is not False:
            self.events.emit(moved)

    def subscribe(self, callback: Subscriber) -> object:
        return self.events.add(callback)

    def counts(self) -> dict[States, int]:
        """Tasks per state: each stripe read under its lock, so every task counts once."""
        total = dict.fromkeys(States, 0)
        for lock, counts in zip(self.stripes, self._counts, strict=True):
            with lock:
                for state, n in counts.items():
                    total[state] += n
        return total

    def wait_idle(self, timeout: float | None) -> None:
        """Block until no task is left in a non-final state."""
        with self._idle:  # a move that may leave none notifies under it: no lost wake-up
            self._waiters += 1
            try:
                if not self._idle.wait_for(lambda: not any(self._live), timeout):
                    raise TimeoutError(f"{sum(self._live)} tasks still unfinished after "
                                       f"{timeout} s")
            finally:
                self._waiters -= 1

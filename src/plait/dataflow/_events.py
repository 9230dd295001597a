"""Events the kernel emits, and the subscriber list that receives them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NamedTuple

from plait.dataflow._states import States

log = logging.getLogger(__name__)


class TaskStateChanged(NamedTuple):
    """A task moved from one state to another."""

    task_id: int
    func_name: str
    old: States
    new: States
    time: float
    try_id: int
    reason: str


Subscriber = Callable[[TaskStateChanged], object]


class Subscribers:
    """Callbacks that receive every event; a failing callback is logged, never propagated.

    Callbacks run in the thread that made the change, with no kernel lock held: keep them
    short, or hand the event to a queue.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.callbacks: tuple[Subscriber, ...] = ()

    def add(self, callback: Subscriber) -> Callable[[], None]:
        """Register ``callback``; return a function that unregisters it."""
        with self._lock:
            self.callbacks = (*self.callbacks, callback)

        def remove() -> None:
            with self._lock:
                self.callbacks = tuple(c for c in self.callbacks if c is not callback)

        return remove

    def emit(self, event: TaskStateChanged) -> None:
        for callback in self.callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, event)

"""Delayer: runs a function on items after a delay, on one named thread started on first use.

    kernel ──call_later(delay, task)──▶ heap (deadline, seq, task) ──▶ delayer thread ──▶ run(task)

The thread waits on a condition until the earliest deadline (never a poll period). Once
closed, ``call_later`` refuses new items and ``close`` hands back those that never ran, so
the caller can complete their futures instead of dropping them.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Delayer(Generic[T]):
    """Calls ``run(item)`` for each item once its delay has passed."""

    def __init__(self, name: str, run: Callable[[T], object]) -> None:
        self._name = name
        self._run_item = run
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, T]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_later(self, delay: float, item: T) -> bool:
        """Schedule ``run(item)`` in ``delay`` seconds; False (and nothing scheduled) once
        closed."""
        with self._cond:
            if self._closed:
                return False
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + delay, self._seq, item))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name,
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
            return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)  # a deadline: the next due item
                if self._closed:
                    return
                _, _, item = heapq.heappop(self._heap)
            try:
                self._run_item(item)
            except Exception:
                log.exception("delayed call of %r on %r failed", self._run_item, item)

    def close(self) -> list[T]:
        """Stop; return the items that never ran, in deadline order."""
        with self._cond:
            self._closed = True
            pending = [item for _, _, item in sorted(self._heap)]
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)  # bounded: the thread may be inside run(), launching
        return pending

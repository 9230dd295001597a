"""LightFuture: a ``concurrent.futures.Future`` whose Condition exists only once someone waits.

A stdlib Future allocates a Condition (an RLock and a deque) at construction: about 1.6 KB.
A task in flight holds two futures (the AppFuture and the executor's), so for a graph of
10^6 tasks that alone would be 3 GB. LightFuture keeps the same API and semantics, and
creates its Condition only when a thread blocks in ``result()``/``exception()`` or in
``concurrent.futures.wait``/``as_completed``.

Correctness argument: a condition is created only while holding ``_CREATE``. A state change
on a future without a condition is made while holding ``_CREATE`` and re-checking that the
condition is still absent, so no thread can be waiting on it and nobody needs notifying.
Once a condition exists, every state change happens under it, exactly as in the stdlib.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError
from concurrent.futures._base import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    PENDING,
    RUNNING,
)
from typing import Any, TypeVar

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_CREATE = threading.Lock()
_DONE_STATES = frozenset({CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED})
Callback = Callable[[Future[Any]], object]


class LightFuture(Future[_T]):
    """A Future that allocates its Condition lazily; see the module docstring.

    ``task`` is the kernel's record of the task the future belongs to (an AppFuture's own;
    on an executor's future, set by the kernel at launch), so the kernel's completion
    callback is one shared bound method, not a closure per task.
    """

    __slots__ = ("_cond", "_done_callbacks", "_exception", "_result", "_state", "_wl", "task")

    def __init__(self) -> None:  # no super().__init__(): it would allocate the Condition
        self._state = PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        # None, one callback, or a list of them: most futures get exactly one
        self._done_callbacks: Callback | list[Callback] | None = None
        self._cond: threading.Condition | None = None
        self._wl: list[Any] | None = None
        self.task: Any = None

    # -- the two attributes the stdlib's wait()/as_completed() touch directly ------------
    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        cond = self._cond
        if cond is None:
            with _CREATE:
                if self._cond is None:
                    self._cond = threading.Condition()
                cond = self._cond
        return cond

    @property
    def _waiters(self) -> list[Any]:  # type: ignore[override]
        if self._wl is None:
            self._wl = []
        return self._wl

    def _acquire(self) -> Any:
        """Hold the lock that guards a state change: the condition, or ``_CREATE``."""
        cond = self._cond
        if cond is None:
            _CREATE.acquire()
            if self._cond is None:
                return _CREATE
            _CREATE.release()
            cond = self._cond
        cond.acquire()
        return cond

    def _notify(self, lock: Any, note: str) -> None:
        """Tell blocked waiters about a state change; call with ``lock`` held."""
        if lock is _CREATE:
            return
        for waiter in self._wl or ():
            getattr(waiter, note)(self)
        lock.notify_all()

    # -- queries ---------------------------------------------------------------------
    def cancelled(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def running(self) -> bool:
        return self._state == RUNNING

    def done(self) -> bool:
        return self._state in _DONE_STATES

    def _outcome(self) -> _T:
        if self._exception is not None:
            raise self._exception
        return self._result

    def _wait_done(self, timeout: float | None) -> None:
        if self._state in _DONE_STATES:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        cond = self._condition
        with cond:
            while self._state not in _DONE_STATES:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise FutureTimeoutError()
                cond.wait(remaining)

    def result(self, timeout: float | None = None) -> _T:
        if self._state == FINISHED:
            return self._outcome()
        self._wait_done(timeout)
        if self._state != FINISHED:
            raise CancelledError()
        return self._outcome()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait_done(timeout)
        if self._state != FINISHED:
            raise CancelledError()
        return self._exception

    # -- state changes ----------------------------------------------------------------
    def add_done_callback(self, fn: Callable[[Future[_T]], object]) -> None:
        lock = self._acquire()
        try:
            if self._state not in _DONE_STATES:
                callbacks = self._done_callbacks
                if callbacks is None:
                    self._done_callbacks = fn
                elif isinstance(callbacks, list):
                    callbacks.append(fn)
                else:
                    self._done_callbacks = [callbacks, fn]
                return
        finally:
            lock.release()
        try:
            fn(self)
        except Exception:
            log.exception("exception calling callback for %r", self)

    def cancel(self) -> bool:
        lock = self._acquire()
        try:
            if self._state in (RUNNING, FINISHED):
                return False
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return True
            self._state = CANCELLED
            if lock is not _CREATE:
                lock.notify_all()
        finally:
            lock.release()
        self._run_callbacks()
        return True

    def set_running_or_notify_cancel(self) -> bool:
        lock = self._acquire()
        try:
            if self._state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                self._notify(lock, "add_cancelled")
                return False
            if self._state == PENDING:
                self._state = RUNNING
                return True
            raise RuntimeError(f"Future in unexpected state {self._state}")
        finally:
            lock.release()

    def _finish(self, result: Any, exception: BaseException | None) -> None:
        lock = self._acquire()
        try:
            if self._state in _DONE_STATES:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result, self._exception = result, exception
            self._state = FINISHED
            self._notify(lock, "add_result" if exception is None else "add_exception")
        finally:
            lock.release()
        self._run_callbacks()

    def _run_callbacks(self) -> None:
        callbacks, self._done_callbacks = self._done_callbacks, None
        if callbacks is None:
            return
        for fn in callbacks if isinstance(callbacks, list) else (callbacks,):
            try:
                fn(self)
            except Exception:
                log.exception("exception calling callback for %r", self)

    def set_result(self, result: _T) -> None:
        self._finish(result, None)

    def set_exception(self, exception: BaseException | None) -> None:
        self._finish(None, exception)

"""Walltime for Python apps: raise AppTimeout inside the thread running an app that overran.

One watcher thread per process holds the deadlines of running apps and, when one passes,
asynchronously raises AppTimeout in that app's thread (the exception arrives at the next
Python bytecode, so code blocked in C is interrupted only when it returns to Python).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plait._errors import AppTimeout


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``thread_id`` at its next bytecode (None: cancel a pending one)."""
    import ctypes  # here, not at module level: keeps `import plait` fast

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object() if exc is None else ctypes.py_object(exc))


@dataclass(order=True)
class _Deadline:
    when: float
    seq: int
    thread_id: int = field(compare=False)
    done: bool = field(default=False, compare=False)
    fired: bool = field(default=False, compare=False)


class _Watcher:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[_Deadline] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Deadline:
        entry = _Deadline(time.monotonic() + seconds, next(self._seq), threading.get_ident())
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="plait-walltime",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        return entry

    def disarm(self, entry: _Deadline) -> bool:
        """Mark ``entry`` finished; return whether its timeout fired."""
        with self._cond:
            entry.done = True
            if entry.fired:  # drop the exception if it is still pending delivery
                _set_async_exc(entry.thread_id, None)
            return entry.fired

    def _run(self) -> None:  # runs for the life of the process, as a daemon thread
        with self._cond:
            while True:
                while self._heap and self._heap[0].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()  # nothing to time: wait for arm()
                    continue
                delay = self._heap[0].when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)  # a deadline: the earliest app's walltime
                    continue
                entry = heapq.heappop(self._heap)
                entry.fired = True
                _set_async_exc(entry.thread_id, AppTimeout)


_WATCHER = _Watcher()


def call_with_walltime(func: Callable[..., Any], seconds: float, name: str,
                       args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func(*args, **kwargs)``; raise AppTimeout if it runs longer than ``seconds``."""
    entry = _WATCHER.arm(seconds)
    try:
        try:
            return func(*args, **kwargs)
        finally:
            _WATCHER.disarm(entry)
    except AppTimeout:
        raise AppTimeout(f"App {name} exceeded walltime: {seconds} seconds") from None


def timeout(f: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """``f`` wrapped so that a call running longer than ``seconds`` raises AppTimeout
    (Parsl's ``parsl.app.python.timeout``; apps given ``walltime=`` use it already)."""
    import functools

    name = getattr(f, "__name__", None) or repr(f)

    @functools.wraps(f)
    def timed(*args: Any, **kwargs: Any) -> Any:
        return call_with_walltime(f, seconds, name, args, kwargs)

    return timed

"""Timer: call a function every ``interval`` seconds from a named thread, until closed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Timer:
    """Calls ``callback(*args)`` every ``interval`` seconds on its own thread (Parsl's
    ``parsl.utils.Timer``); the first call comes one interval after construction.

    ``make_callback()`` runs the callback now, from the caller's thread. ``close()`` stops
    the timer and waits (bounded) for a call in progress to return. An exception raised by
    the callback is logged and the timer goes on.
    """

    def __init__(self, callback: Callable[..., Any], *args: Any, interval: float = 5,
                 name: str | None = None) -> None:
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) \
                or interval <= 0:
            raise ValueError(f"Timer interval={interval!r} must be a number of seconds > 0")
        self.callback, self.args, self.interval = callback, args, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True,
            name=f"plait-timer-{name or getattr(callback, '__name__', 'callback')}")
        self._thread.start()

    def make_callback(self) -> None:
        """Run the callback once, now."""
        try:
            self.callback(*self.args)
        except Exception:
            log.exception("timer callback %r failed", self.callback)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):  # the interval is the deadline, not a poll
            self.make_callback()

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the timer; wait up to ``timeout`` seconds for a running callback. Idempotent."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

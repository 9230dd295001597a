"""Waiting in tests, bounded: for a condition nothing signals, or for lines tasks announce.

Prefer something that signals (an Event, a future's ``result(timeout=...)``, a process's exit).
When nothing does (a process appearing, a file being written), use :func:`wait_until`; when a
task or block must say "I started", give it a :class:`Beacon` to write to.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str | Callable[[], str],
               *, interval: float = 0.01) -> T:
    """Return ``predicate()``'s first truthy value, checked every ``interval`` seconds.

    Fails (AssertionError) after ``timeout`` seconds with a message naming ``what`` was
    awaited; ``what`` may be a callable, evaluated at the failure, to show the last state.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            shown = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g} s waiting for {shown}")
        if interval:
            time.sleep(interval)


class Beacon:
    """A FIFO that tasks (or blocks) write lines to; the test waits for the lines.

    Opened read-write by the test, so a writer's ``open`` never blocks and the reader never
    sees end-of-file between writers. Readers wake on data (select), not on a timer. Gates
    go the other way: a task blocks reading its gate until the test opens it.
    """

    def __init__(self, folder: Path | str, name: str = "beacon") -> None:
        self.folder = Path(folder)
        self.path = str(self.folder / name)
        os.mkfifo(self.path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._buf = b""

    def _arrived(self, count: int) -> bool:
        if self._buf.count(b"\n") < count and select.select([self._fd], [], [], 0.1)[0]:
            self._buf += os.read(self._fd, 65536)
        return self._buf.count(b"\n") >= count

    def wait_lines(self, count: int, timeout: float = 20) -> list[str]:
        """Every line written so far, once at least ``count`` have arrived."""
        wait_until(lambda: self._arrived(count), timeout,
                   lambda: f"{count} line(s) on {self.path} (got {self._buf!r})", interval=0)
        return self._buf.decode().splitlines()

    def gate(self, tag: str) -> str:
        """A new gate fifo for one task to wait on."""
        path = str(self.folder / f"gate-{tag}")
        os.mkfifo(path)
        return path

    def open_gate(self, path: str) -> None:
        with open(path, "w") as fh:  # the task is already blocked reading it
            fh.write("go\n")

    def close(self) -> None:
        os.close(self._fd)


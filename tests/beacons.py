"""Beacon: a FIFO that processes (blocks, workers, tasks) write lines to, and a test waits on."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path


class Beacon:
    """A fifo blocks write lines to; the test waits for them with select (no polling)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "beacon"
        os.mkfifo(self.path)
        # O_RDWR: writers never block on open, and the reader never sees EOF between writers.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._buf = b""

    def wait_lines(self, count: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while self._buf.count(b"\n") < count:
            left = deadline - time.monotonic()
            assert left > 0, f"only {self._buf!r} arrived on the beacon"
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                self._buf += os.read(self._fd, 4096)
        return self._buf.decode().splitlines()

    def close(self) -> None:
        os.close(self._fd)

"""Registry of the command processes that tasks started in this process (bash apps), so an
interrupted run can kill them instead of leaving them behind."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

_running: set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()


@contextlib.contextmanager
def track(proc: subprocess.Popen[Any]) -> Iterator[None]:
    """Register ``proc`` (started with ``start_new_session=True``) while the block runs."""
    with _lock:
        _running.add(proc)
    try:
        yield
    finally:
        with _lock:
            _running.discard(proc)


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL ``proc``'s process group and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_task_processes() -> None:
    """Kill every tracked command process (an interrupted shutdown)."""
    with _lock:
        procs = list(_running)
    for proc in procs:
        kill_group(proc)

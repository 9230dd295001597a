"""Start a helper as a fresh interpreter and get a file descriptor that wakes a poll when it dies.

Linux gives a pidfd; elsewhere (or where the kernel refuses it: Linux before 5.3, as on
RHEL 7 clusters, whose Pythons built elsewhere still have ``os.pidfd_open``; seccomp; valgrind)
the child inherits the write end of a pipe that only it holds, so the read end reaches EOF
when it exits. Either way the owner waits on the descriptor in its poller instead of polling
``Popen.poll()`` on a timer.
"""

from __future__ import annotations

import functools
import os
import select
import subprocess
import time
from typing import Any


@functools.cache
def pidfds_work() -> bool:
    """Whether this kernel gives pidfds (asked once, of this process)."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # ENOSYS: an older kernel; EPERM: a seccomp filter
        return False
    return True


class Child:
    """A started process and its death descriptor (``fd``: readable once it has exited)."""

    def __init__(self, argv: list[str], **popen: Any) -> None:
        pipe_w = -1
        if not pidfds_work():
            pipe_r, pipe_w = os.pipe()
            popen["pass_fds"] = (*popen.get("pass_fds", ()), pipe_w)
        self.popen = subprocess.Popen(argv, **popen)
        self.pid = self.popen.pid
        if pipe_w >= 0:
            os.close(pipe_w)
            self.fd = pipe_r
        else:
            self.fd = os.pidfd_open(self.pid)

    def exitcode(self, timeout: float | None = 0) -> int | None:
        """The exit status (negative: killed by that signal), or None if still running
        after ``timeout`` seconds (None: wait as long as it takes).

        Waits on the death descriptor, so the caller wakes as the process exits (Popen's own
        timed wait polls on a timer, up to 50 ms late).
        """
        code = self.popen.poll()
        if code is not None or timeout == 0:
            return code
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.fd >= 0:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN)
            poller.poll(None if timeout is None else timeout * 1000)
            code = self.popen.poll()
        remaining = None if deadline is None else deadline - time.monotonic()
        if code is not None or (remaining is not None and remaining <= 0):
            return code
        try:  # no descriptor, or a pipe a grandchild still held: Popen's own wait
            return self.popen.wait(remaining)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL, ignoring a process that is already gone."""
        try:
            self.popen.kill()
        except OSError:
            pass

    def close(self) -> None:
        """Release the death descriptor (after the process has been reaped)."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

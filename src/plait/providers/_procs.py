"""Find and stop every process of a session: how LocalProvider makes sure a block is gone."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time

import psutil


def session_processes(sid: int, exclude: int | None = None) -> list[psutil.Process]:
    """Live (non-zombie) processes whose session id is ``sid``."""
    found = []
    for pid in psutil.pids():
        if pid == exclude:
            continue
        try:
            if os.getsid(pid) != sid:
                continue
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue  # exited while we looked
    return found


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Block until every process in ``procs`` has exited (zombies count as gone), or timeout.

    Waits on pidfds (readable when the process exits), so it wakes at once, with no polling.
    Returns the processes still running at the deadline.
    """
    fds: dict[int, psutil.Process] = {}
    try:
        for proc in procs:
            try:
                fds[os.pidfd_open(proc.pid)] = proc
            except ProcessLookupError:
                continue
            except OSError:  # no pidfd support: fall back to psutil's polling wait
                return list(psutil.wait_procs(procs, timeout=timeout)[1])
        deadline = time.monotonic() + timeout
        pending = set(fds)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(pending), [], [], left)
            pending.difference_update(ready)
        return [fds[fd] for fd in pending]
    finally:
        for fd in fds:
            os.close(fd)


def _signal_groups(procs: list[psutil.Process], sig: int) -> None:
    # Whole groups, not single pids: a child forked after the listing is in its parent's group.
    groups = set()
    for proc in procs:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(proc.pid))
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, sig)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def stop_session(sid: int, grace: float) -> list[psutil.Process]:
    """SIGTERM every process in session ``sid``, SIGKILL what is left after ``grace`` seconds.

    Nothing is reaped here: the caller reaps its own child (the session leader).
    Returns the processes still alive at the end (empty when the session is gone).
    """
    procs = session_processes(sid)
    if not procs:
        return []
    _signal_groups(procs, signal.SIGTERM)
    wait_gone(procs, timeout=grace)
    alive: list[psutil.Process] = []
    for _round in range(3):  # a process forked while we signalled gets the next round
        alive = session_processes(sid)
        if not alive:
            return []
        _signal_groups(alive, signal.SIGKILL)
        wait_gone(alive, timeout=2.0)
    return alive

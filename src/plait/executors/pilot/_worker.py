"""Worker: runs one task at a time for its manager (``python -m plait.executors.pilot._worker``).

    manager ──socketpair (see _pipe)──▶ this worker ── task → result ──▶ manager

Started by the manager as a fresh interpreter; its stdout/stderr go to its log file. It exits
when its socket reaches EOF (the manager is gone); on Linux the kernel also SIGKILLs it when
the manager dies (PR_SET_PDEATHSIG), even in the middle of a task.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from plait.executors.pilot import _protocol as P
from plait.executors.pilot._pipe import recv_msg, send_msg
from plait.serialize._funcs import FunctionTable
from plait.serialize._pack import pack_exception, pack_value, unpack_call
from plait.serialize._shared import forget, hold


def _die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:
        return False


def run_task(table: FunctionTable, frames: list[memoryview]) -> tuple[bytes, list[Any]]:
    """Execute one task message; returns the status byte and the result frames."""
    digest = bytes(frames[2])
    pos = 5
    if frames[4]:  # shared arguments: drop what the manager says, keep what it sent
        dropped, sent = P.loads(frames[4])
        for ref in dropped:
            forget(ref)
        for ref, n in sent:
            hold(ref, frames[pos:pos + n])
            pos += n
    try:
        func = table.get(digest)
        if func is None:
            func = table.add(digest, frames[3])
        args, kwargs = unpack_call(frames[pos:])
    except Exception as exc:  # DeserializationError naming the cause
        return P.STATUS_FAILED, pack_value(exc)
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:  # the task's own failure goes back to its future
        return P.STATUS_FAILED, pack_exception(exc)
    del args, kwargs
    try:
        return P.STATUS_OK, pack_value(result)
    except Exception as exc:  # SerializationError naming the result's type
        return P.STATUS_FAILED, pack_value(exc)


def main() -> None:
    """Entry point: ``_worker <socket fd> <rank>``."""
    fd = int(sys.argv[1])
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the manager died before the request took effect
        sys.exit(1)
    cpus = os.environ.get("PLAIT_WORKER_CPUS")
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
        except OSError as exc:
            sys.stderr.write(f"worker {sys.argv[2]}: cannot pin to CPUs {cpus} "
                             f"(sched_setaffinity: {exc}); fix the executor's cpu_affinity\n")
            sys.exit(3)
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    os.set_inheritable(fd, False)  # a task's subprocesses must not hold the manager's pipe
    send_msg(sock, [P.READY])
    table = FunctionTable()
    while True:
        # Blocks until the manager sends a task; EOF means the manager is gone: exit.
        frames = recv_msg(sock)
        if frames is None or frames[0] != P.TASKS:
            break
        status, out = run_task(table, frames)
        send_msg(sock, [P.RESULTS, frames[1], status, *out])
        del frames, out
    sock.close()


if __name__ == "__main__":
    main()

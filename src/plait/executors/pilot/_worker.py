"""Worker: runs one task at a time for its manager (``python -m plait.executors.pilot._worker``).

    manager ROUTER ──ipc──▶ DEALER (this worker) ── task → result ──▶ manager

Started by the manager as a fresh interpreter; its stdout/stderr go to its log file. On Linux
it asks the kernel to SIGKILL it when the manager dies (PR_SET_PDEATHSIG), so an orphaned
worker never lingers; elsewhere it checks its parent between waits.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import zmq

from plait.executors.pilot import _protocol as P
from plait.serialize._funcs import FunctionTable
from plait.serialize._pack import pack_exception, pack_value, unpack_call

_PARENT_CHECK_MS = 5000


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


def run_task(table: FunctionTable, frames: list[zmq.Frame]) -> tuple[bytes, list[Any]]:
    """Execute one task message; returns the status byte and the result frames."""
    digest = frames[2].bytes
    try:
        func = table.get(digest)
        if func is None:
            func = table.add(digest, frames[3].buffer)
        args, kwargs = unpack_call([f.buffer for f in frames[4:]])
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
    """Entry point: ``_worker <ipc address> <rank>``."""
    address, rank = sys.argv[1], sys.argv[2]
    parent = os.getppid()
    watched = not _die_with_parent()
    if os.getppid() != parent:  # the manager died before the request took effect
        sys.exit(1)
    cpus = os.environ.get("PLAIT_WORKER_CPUS")
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.IDENTITY, rank.encode())
    sock.setsockopt(zmq.LINGER, 1000)
    sock.connect(address)
    sock.send(P.READY)
    table = FunctionTable()
    while True:
        if watched:
            while not sock.poll(_PARENT_CHECK_MS):
                if os.getppid() != parent:
                    sys.exit(1)
        frames = sock.recv_multipart(copy=False)
        if frames[0].bytes != P.TASKS:
            break
        status, out = run_task(table, frames)
        sock.send_multipart([P.RESULTS, frames[1], status, *out], copy=False)
        del frames, out
    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()

"""The pilot executor's wire protocol: message kinds, frame layouts and the version check.

    executor ⇄ (channel: inherited socketpair) ⇄ interchange ⇄ (ROUTER/DEALER TCP) ⇄ managers
    manager ⇄ (socketpair each) ⇄ workers

Every message is a list of frames (a ZeroMQ multipart message, or one of :mod:`._pipe` on a
socketpair) whose first frame is one kind byte. Payload frames
(pickled functions, arguments and results) are forwarded as they are, never re-pickled; only the
small ``meta`` frames are decoded on the way.

Executor → interchange
    F  [F, digest, body]                   a function body, sent before its first task
    T  [T, meta, *frames]                  meta = [(task_id, digest, priority, cores, mem, n,
                                           refs)]; refs: digests of shared arguments
    B  [B, ref, *frames]                   a shared argument, before the first task naming it
    Z  [Z, *refs]                          shared arguments the interchange may drop
    C  [C, pickle((req_id, name, args))]   a command (see the interchange)
    H  [H]                                 heartbeat, every heartbeat_period
Interchange → executor
    S  [S, pickle(info)]                   started: info["worker_port"]
    R  [R, meta, *frames]                  results; meta = [(task_id, status, n)]
    L  [L, pickle([(task_id, exception)])] tasks that failed in the infrastructure
    E  [E, pickle(event)]                  ("registered"|"lost"|"refused", details...)
    M  [M, pickle(samples)]                resource samples, forwarded from a manager
    C  [C, pickle((req_id, value))]        a command's reply
    H  [H]                                 heartbeat, every heartbeat_period
Manager → interchange (the ROUTER prefixes the manager id)
    P probe · G [G, pickle(registration)] · R results (as above) · D drain
    H  [H, pickle([rss])]                  heartbeat; each worker's resident bytes (or None)
Interchange → manager
    P probe reply · A [A, pickle(ack)] · N [N, reason] refused, exit · H heartbeat
    T  [T, meta, *bodies, *shared, *frames]  meta = (new digests, [(task_id, digest, n,
                                           refs)], [(ref, n)] shared sent, [ref] to drop)
    X  exit now (shutdown, drained, or lost)
Manager → worker: T [T, task_id, digest, body or b"", shared, *frames] · X exit
    shared: b"" or pickle(([ref] to drop, [(ref, n)] sent)); the sent frames precede *frames
Worker → manager: Y ready · R [R, task_id, status, *frames]
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import Any

PROTOCOL_VERSION = 2  # 2: shared arguments (refs in task metas, B and Z messages)

# Message kinds (first frame).
FUNC, TASKS, COMMAND = b"F", b"T", b"C"
SHARED, FORGET = b"B", b"Z"
STARTED, RESULTS, LOST, EVENT = b"S", b"R", b"L", b"E"
PROBE, REGISTER, HEARTBEAT, DRAIN = b"P", b"G", b"H", b"D"
MONITOR = b"M"
ACCEPT, REFUSE, EXIT, READY = b"A", b"N", b"X", b"Y"

# Result status byte.
OK, FAILED = 0, 1
STATUS_OK, STATUS_FAILED = b"\x00", b"\x01"

_TID = struct.Struct("<q")
pack_tid = _TID.pack


def unpack_tid(data: bytes | memoryview) -> int:
    """Decode an 8-byte task id frame."""
    return int(_TID.unpack(data)[0])


# ZeroMQ copies a frame into its own message unless told not to; not copying needs a Python
# Frame object and a free-callback, which costs more than copying a small frame.
ZERO_COPY_MIN = 1 << 16
_SNDMORE = 2  # zmq.SNDMORE; workers import this module and never need zmq itself


def send(sock: Any, frames: list[Any], flags: int = 0) -> None:
    """Send a multipart message; zero-copy only when some frame is large.

    ``flags`` (e.g. ``zmq.NOBLOCK``) apply to every frame; ZeroMQ queues a multipart message
    whole or not at all.

    Frame by frame: pyzmq's ``send_multipart`` type-checks every part first, which costs
    more than the sends of a small message; these frames are buffers by construction.
    """
    big = False
    for f in frames:
        if isinstance(f, memoryview):
            size = f.nbytes
        else:
            try:
                size = len(f)
            except TypeError:  # pickle.PickleBuffer
                size = memoryview(f).nbytes
        if size >= ZERO_COPY_MIN:
            big = True
            break
    copy = not big
    put = sock.send
    for f in frames[:-1]:
        put(f, _SNDMORE | flags, copy)
    put(frames[-1], flags, copy)


def dumps(obj: object) -> bytes:
    """Pickle a small control structure (never user data)."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: Any) -> Any:
    """Unpickle a control structure; accepts bytes, memoryview or zmq.Frame."""
    return pickle.loads(getattr(data, "buffer", data))


def plait_version() -> str:
    """The installed plait version, or "unknown" when run from a source tree."""
    try:
        from importlib.metadata import version

        return version("plait")
    except Exception:
        return "unknown"


def local_versions() -> dict[str, str]:
    """What a component compares: protocol, Python major.minor, plait version."""
    return {"protocol": str(PROTOCOL_VERSION),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "plait": plait_version()}


def version_table(mine: dict[str, str], theirs: dict[str, str], who: str) -> str | None:
    """None when the versions agree, else one table of every component's versions."""
    keys = ("protocol", "python", "plait")
    if all(mine.get(k) == theirs.get(k) for k in keys):
        return None
    rows = [("component", *keys), ("submitter", *(mine.get(k, "?") for k in keys)),
            (who, *(theirs.get(k, "?") for k in keys))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(keys) + 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    diff = ", ".join(k for k in keys if mine.get(k) != theirs.get(k))
    return "\n".join([*lines, f"(differs: {diff})"])

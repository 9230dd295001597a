"""Task functions the pilot tests send to workers (importable, so pickled by reference)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any


def add(a: int, b: int) -> int:
    return a + b


def echo(x: Any) -> Any:
    return x


def getpid() -> int:
    return os.getpid()


def sleep_then(seconds: float, value: Any = None) -> Any:
    time.sleep(seconds)
    return value


def kill_self_after(seconds: float) -> None:
    time.sleep(seconds)
    os.kill(os.getpid(), signal.SIGKILL)


def env(name: str) -> str | None:
    return os.environ.get(name)


def affinity() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def stamp(seconds: float = 0.0) -> int:
    time.sleep(seconds)
    return time.monotonic_ns()


class Boom(Exception):
    pass


def fail(msg: str) -> None:
    def inner() -> None:
        raise Boom(msg)
    try:
        inner()
    except Boom as exc:
        raise ValueError(f"outer {msg}") from exc


def return_unpicklable() -> Any:
    return (i for i in range(3))


def interval(seconds: float) -> tuple[int, int]:
    start = time.monotonic_ns()
    time.sleep(seconds)
    return start, time.monotonic_ns()


def pid_and_env(name: str, seconds: float = 0.0) -> tuple[int, str | None]:
    time.sleep(seconds)
    return os.getpid(), os.environ.get(name)


def pid_and_affinity(seconds: float = 0.0) -> tuple[int, list[int], str | None]:
    time.sleep(seconds)
    return os.getpid(), sorted(os.sched_getaffinity(0)), os.environ.get("OMP_NUM_THREADS")


def announce_then_sleep(beacon: str, seconds: float, value: Any = None) -> Any:
    """Write ``started <pid>`` to the beacon fifo (the test waits for it), then sleep."""
    with open(beacon, "w") as fh:
        fh.write(f"started {os.getpid()}\n")
    time.sleep(seconds)
    return value


def announce_then_wait(beacon: str, gate: str) -> int:
    """Write ``started <pid>`` to the beacon fifo, then block until the test opens the gate."""
    with open(beacon, "w") as fh:
        fh.write(f"started {os.getpid()}\n")
    with open(gate) as fh:
        fh.read()
    return os.getpid()


def hog_then_die(nbytes: int, beacon: str, gate: str) -> None:
    """Hold ``nbytes`` of memory, announce it, wait for the gate, then SIGKILL this worker."""
    held = b"x" * nbytes  # filled, so resident
    with open(beacon, "w") as fh:
        fh.write(f"holding {len(held)} {os.getpid()}\n")
    with open(gate) as fh:
        fh.readline()
    os.kill(os.getpid(), signal.SIGKILL)


def digest_and_mutate(x: Any) -> tuple[str, int]:
    """SHA-256 of a buffer argument, then scribble over it (a later task must not see it)."""
    import hashlib

    view = memoryview(getattr(x, "data", x)).cast("B")  # .data: an array stand-in
    digest = hashlib.sha256(view).hexdigest()
    if not view.readonly and view.nbytes:
        view[0] = (view[0] + 1) % 256
    from plait.serialize._shared import worker_store

    return digest, len(worker_store())

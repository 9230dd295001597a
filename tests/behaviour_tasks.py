"""Task bodies for the executor behaviour suite; workers import this module by reference."""

from __future__ import annotations

import os
import time
from typing import Any


def add(a: int, b: int = 0) -> int:
    return a + b


def total(inputs: list[int] = ()) -> int:  # type: ignore[assignment]
    return sum(inputs)


def fail(message: str) -> None:
    raise ValueError(message)


def fail_once(marker: str) -> str:
    """Fail the first time (creating ``marker``), succeed afterwards."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first try fails")
    return "second try"


def spin(walltime: float = 0) -> None:
    while True:
        time.sleep(0.01)


def write(text: str, outputs: list[Any] = ()) -> None:  # type: ignore[assignment]
    with open(outputs[0], "w") as f:
        f.write(text)


def read(inputs: list[Any] = ()) -> str:  # type: ignore[assignment]
    with open(inputs[0]) as f:
        return f.read()


def shell(cmd: str, stdout: str | None = None, stderr: str | None = None) -> str:
    return cmd


def pid() -> int:
    return os.getpid()


def die_once(marker: str) -> str:
    """SIGKILL this worker process the first time (creating ``marker``); succeed after."""
    import signal

    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def die_always() -> str:
    """SIGKILL this worker process every time: a task that kills its worker."""
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"

"""Parsl's ``parsl.executors.high_throughput.manager_record`` path: ManagerRecord.

plait's pilot executor keeps its managers inside the interchange; what it shows of each is
the record ``HighThroughputExecutor.connected_managers()`` returns, typed here with Parsl's
field names (plait adds ``hostname``, ``prefetch_depth``, ``service_s`` and, when the
manager reports them, ``pid`` and ``worker_rss``).
"""

from __future__ import annotations

from typing import TypedDict


class ManagerRecord(TypedDict, total=False):
    """One connected manager, as ``connected_managers()`` gives it."""

    manager: str
    block_id: str | None
    hostname: str
    worker_count: int
    tasks: int
    idle_duration: float
    active: bool
    draining: bool
    parsl_version: str
    python_version: str
    prefetch_depth: int
    service_s: float
    pid: int
    worker_rss: int


__all__ = ["ManagerRecord"]

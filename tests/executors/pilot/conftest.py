"""Fixtures for the pilot executor: executors on LocalProvider blocks, and leftover checks.

Every LocalProvider block is its own session (its job id is the session id), and the
interchange runs in a session of its own, so "nothing survives" is checked over sessions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from plait.executors.pilot._executor import HighThroughputExecutor
from plait.providers import LocalProvider
from waiting import Beacon

# Task functions live in pilot_tasks.py next to this file; workers import it by reference.
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
EXPORT_PATH = f"export PYTHONPATH={HERE}${{PYTHONPATH:+:$PYTHONPATH}}"


def local_provider(init_blocks: int = 1, worker_init: str = "") -> LocalProvider:
    """A LocalProvider for tests: task modules importable, fast status, short cancel grace."""
    provider = LocalProvider(init_blocks=init_blocks, max_blocks=10, cancel_grace=0.5,
                             worker_init=f"{EXPORT_PATH}\n{worker_init}", walltime=None)
    provider.status_polling_interval = 0.2
    return provider


def session_processes(sessions: set[int]) -> list[psutil.Process]:
    """Live processes in any of ``sessions``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) in sessions and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, psutil.Error, PermissionError):
            continue
    return found


def assert_all_gone(ex: HighThroughputExecutor, provider: Any = None,
                    timeout: float = 10) -> None:
    """Every process the executor started (interchange, blocks) exits within ``timeout``."""
    sessions = {int(j) for j in ex.blocks_to_job_id.values()}
    client = ex._client
    if client is not None and client.child is not None:
        sessions.add(client.child.pid)
    left = session_processes(sessions)
    _, alive = psutil.wait_procs(left, timeout=timeout)
    assert not alive, f"processes left behind: {[(p.pid, p.cmdline()) for p in alive]}"


Factory = Callable[..., tuple[HighThroughputExecutor, LocalProvider]]


@pytest.fixture
def make_htex(tmp_path: Any) -> Iterator[Factory]:
    """Build started executors with short heartbeats; shut down and check for leftovers."""
    made: list[tuple[HighThroughputExecutor, LocalProvider]] = []

    def factory(start: bool = True, provider: LocalProvider | None = None,
                **kwargs: Any) -> tuple[HighThroughputExecutor, LocalProvider]:
        provider = provider or local_provider()
        kwargs.setdefault("heartbeat_period", 0.5)
        kwargs.setdefault("heartbeat_threshold", 2.0)
        kwargs.setdefault("max_workers_per_node", 2)
        kwargs.setdefault("address", "127.0.0.1")
        ex = HighThroughputExecutor(label=f"htex{len(made)}", provider=provider, **kwargs)
        ex.run_dir = str(tmp_path)
        ex.run_id = "test"
        made.append((ex, provider))
        if start:
            ex.start()
        return ex, provider

    yield factory
    for ex, provider in made:
        ex.shutdown()
        assert_all_gone(ex, provider)


@pytest.fixture
def beacon(tmp_path: Any) -> Iterator[Beacon]:
    """A fifo tasks announce their start on (see ``pilot_tasks.announce_then_sleep``)."""
    b = Beacon(tmp_path)
    yield b
    b.close()

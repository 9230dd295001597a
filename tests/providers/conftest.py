"""A LocalProvider writing into a temporary script_dir; teardown proves no block survives."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from plait.launchers import SingleNodeLauncher
from plait.providers import JobStatus, LocalProvider
from plait.providers._procs import session_processes, wait_gone


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[LocalProvider]:
    prov = LocalProvider(launcher=SingleNodeLauncher(debug=False), cancel_grace=0.5)
    prov.script_dir = str(tmp_path / "submit_scripts")
    yield prov
    jobs = list(prov.resources)
    prov.cancel(jobs)
    for job_id in jobs:
        assert not session_processes(int(job_id)), f"block {job_id} left processes"


def wait_block_exit(job_id: str, timeout: float = 20) -> None:
    """Block until the block's wrapper process exits (a pidfd wait, no polling)."""
    proc = psutil.Process(int(job_id))
    assert not wait_gone([proc], timeout=timeout), f"block {job_id} still running"


def status_of(provider: LocalProvider, job_id: str) -> JobStatus:
    [status] = provider.status([job_id])
    return status


def make_gate(tmp_path: Path) -> Path:
    """A fifo the block reads its exit code from: the test decides when it ends."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    return gate


class Beacon:
    """A fifo blocks write lines to; the test waits for them with select (no polling)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "beacon"
        os.mkfifo(self.path)
        # O_RDWR: writers never block on open, and the reader never sees EOF between writers.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._buf = b""

    def wait_lines(self, count: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while self._buf.count(b"\n") < count:
            left = deadline - time.monotonic()
            assert left > 0, f"only {self._buf!r} arrived on the beacon"
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                self._buf += os.read(self._fd, 4096)
        return self._buf.decode().splitlines()

    def close(self) -> None:
        os.close(self._fd)


@pytest.fixture
def beacon(tmp_path: Path) -> Iterator[Beacon]:
    b = Beacon(tmp_path)
    yield b
    b.close()

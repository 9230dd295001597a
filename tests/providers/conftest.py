"""A LocalProvider writing into a temporary script_dir; teardown proves no block survives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from plait.launchers import SingleNodeLauncher
from plait.providers import JobStatus, LocalProvider
from plait.providers._procs import session_processes, wait_gone
from waiting import Beacon as Beacon  # the tests here import it from this conftest


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


@pytest.fixture
def beacon(tmp_path: Path) -> Iterator[Beacon]:
    b = Beacon(tmp_path)
    yield b
    b.close()

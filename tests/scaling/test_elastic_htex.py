"""Elasticity end to end: the real HighThroughputExecutor on LocalProvider blocks, scaled by
the real JobStatusPoller. Load adds blocks up to max_blocks; idle blocks are drained and
removed after max_idletime, without killing a running task."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from plait.executors.pilot._executor import HighThroughputExecutor
from plait.providers import JobState, LocalProvider
from plait.providers._procs import session_processes, wait_gone
from plait.scaling import JobStatusPoller
from waiting import Beacon

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import elastic_tasks  # noqa: E402  (workers import it by reference from HERE)


class Fifos(Beacon):
    """A beacon fifo tasks announce themselves on, and one gate fifo per task."""

    @property
    def beacon(self) -> str:
        return self.path


@pytest.fixture
def fifos(tmp_path: Path) -> Iterator[Fifos]:
    f = Fifos(tmp_path)
    yield f
    f.close()


def block_exit(job_id: str, timeout: float) -> None:
    try:
        proc = psutil.Process(int(job_id))
    except psutil.NoSuchProcess:
        return
    assert not wait_gone([proc], timeout=timeout), f"block {job_id} still running"


@pytest.mark.timeout(120)
def test_blocks_follow_load_and_drain_without_killing(tmp_path: Path, fifos: Fifos) -> None:
    provider = LocalProvider(init_blocks=0, min_blocks=0, max_blocks=2, walltime=None,
                             cancel_grace=0.5,
                             worker_init=f"export PYTHONPATH={HERE}:${{PYTHONPATH:-}}")
    provider.script_dir = str(tmp_path / "submit_scripts")
    provider.status_polling_interval = 0.2
    # prefetch_capacity=0: a manager holds only as many tasks as it has workers, so a task
    # never waits behind another on a busy block while a new block is coming up
    ex = HighThroughputExecutor(label="elastic", provider=provider, max_workers_per_node=1,
                                prefetch_capacity=0, heartbeat_period=0.5,
                                heartbeat_threshold=4.0, address="127.0.0.1")
    ex.run_dir, ex.run_id = str(tmp_path), "elastic"
    poller = JobStatusPoller([ex], "htex_auto_scale", strategy_period=0.5, max_idletime=1.0)
    ex.start()
    poller.start()
    try:
        gate_a, gate_b = fifos.gate("A"), fifos.gate("B")
        fut_a = ex.submit(elastic_tasks.gated, {}, fifos.beacon, gate_a, "A")
        fut_b = ex.submit(elastic_tasks.gated, {}, fifos.beacon, gate_b, "B")
        # Load up: one worker per block, so both tasks running means two blocks.
        lines = fifos.wait_lines(2, timeout=30)
        pids = {tag: int(pid) for tag, pid in (line.split() for line in lines)}
        block_a, block_b = str(os.getsid(pids["A"])), str(os.getsid(pids["B"]))
        assert block_a != block_b and set(provider.resources) == {block_a, block_b}

        # A third task while both blocks are busy: max_blocks=2 holds.
        fut_c = ex.submit(elastic_tasks.echo, {}, "C")
        fifos.open_gate(gate_a)
        assert fut_a.result(timeout=30) == "A"
        assert fut_c.result(timeout=30) == "C"
        assert len(provider.resources) == 2

        # Block A is idle, B runs a task: A is drained and removed after max_idletime.
        idle_from = time.monotonic()
        block_exit(block_a, timeout=30)
        assert time.monotonic() - idle_from >= 1.0
        assert provider.status([block_a])[0].state is JobState.CANCELLED
        assert not fut_b.done() and psutil.pid_exists(pids["B"])

        # B's task finishes normally, then its idle block goes too.
        fifos.open_gate(gate_b)
        assert fut_b.result(timeout=30) == "B"
        block_exit(block_b, timeout=30)
        assert len(provider.resources) == 2
    finally:
        poller.close()
        ex.shutdown()
    sessions = [int(job) for job in provider.resources]
    client = ex._client
    if client is not None and client.child is not None:  # the interchange's own session
        sessions.append(client.child.pid)
    for sid in sessions:
        assert not wait_gone(session_processes(sid), timeout=10), f"session {sid} survived"

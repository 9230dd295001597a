"""Lost workers and managers fail their tasks quickly; the executor keeps serving."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
from pilot_tasks import (
    add,
    announce_then_sleep,
    getpid,
    hog_then_die,
    kill_self_after,
    sleep_then,
)

from plait.executors._errors import ManagerLost, WorkerLost
from waiting import wait_until


@pytest.mark.timeout(60)
def test_killed_worker_fails_its_task_and_is_replaced(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    other = ex.submit(sleep_then, {}, 1.5, "survivor")
    fut = ex.submit(kill_self_after, {}, 0.3)
    t0 = time.monotonic()
    with pytest.raises(WorkerLost) as info:
        fut.result(timeout=30)
    assert time.monotonic() - t0 < 0.3 + 2.0
    text = str(info.value)
    assert "SIGKILL" in text and "worker_" in text and info.value.hostname in text
    assert info.value.log_path and os.path.exists(info.value.log_path)
    assert other.result(timeout=30) == "survivor"
    (mgr,) = ex.connected_managers()
    assert mgr["worker_count"] == 2
    workers = psutil.Process(mgr["pid"]).children()
    assert len(workers) == 2  # replaced: the pool keeps its size
    pids = {ex.submit(getpid, {}).result(timeout=30) for _ in range(30)}
    assert pids <= {w.pid for w in workers}


@pytest.mark.timeout(60)
def test_killed_block_fails_tasks_with_manager_lost(make_htex, beacon):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    futs = [ex.submit(announce_then_sleep, {}, beacon.path, 30) for _ in range(2)]
    job_id = ex.blocks_to_job_id["0"]
    beacon.wait_lines(2)  # both tasks run on workers
    os.killpg(int(job_id), signal.SIGKILL)
    t0 = time.monotonic()
    for fut in futs:
        with pytest.raises(ManagerLost, match="was lost"):
            fut.result(timeout=30)
    assert time.monotonic() - t0 < ex.heartbeat_period + 1
    status = ex.poll_status()
    assert status["0"].terminal
    assert not ex.bad_state_is_set


@pytest.mark.timeout(60)
def test_silent_manager_is_lost_after_heartbeat_threshold(make_htex, beacon):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    (mgr,) = ex.connected_managers()
    fut = ex.submit(announce_then_sleep, {}, beacon.path, 30)
    beacon.wait_lines(1)  # the task runs on a worker
    os.kill(mgr["pid"], signal.SIGSTOP)
    t0 = time.monotonic()
    with pytest.raises(ManagerLost, match="no heartbeat"):
        fut.result(timeout=30)
    assert time.monotonic() - t0 < ex.heartbeat_threshold + ex.heartbeat_period + 1


@pytest.mark.timeout(60)
def test_idle_worker_killed_is_replaced_without_failing_anything(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    (mgr,) = ex.connected_managers()
    manager = psutil.Process(mgr["pid"])
    victim = manager.children()[0]
    victim.kill()
    psutil.wait_procs([victim], timeout=10)
    futs = [ex.submit(getpid, {}) for _ in range(40)]
    assert len({f.result(timeout=30) for f in futs} - {victim.pid}) >= 1
    # nothing signals a restart to the test
    wait_until(lambda: len(manager.children()) == 2, 20, "the killed worker's replacement")


MiB = 1 << 20


@pytest.mark.timeout(60)
def test_lost_worker_reports_its_peak_memory_and_whether_it_held_the_most(make_htex, beacon):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    gate = beacon.gate("hog")
    hog = ex.submit(hog_then_die, {}, 200 * MiB, beacon.path, gate)
    small = ex.submit(announce_then_sleep, {}, beacon.path, 60)
    lines = beacon.wait_lines(2)
    small_pid = int(next(line for line in lines if line.startswith("started")).split()[1])

    def sampled() -> list[int]:
        (mgr,) = ex.connected_managers()
        return [rss or 0 for rss in mgr.get("worker_rss", [])]

    # the manager samples at its heartbeats; nothing else signals a sample to the test
    wait_until(lambda: max(sampled(), default=0) >= 200 * MiB, 20,
               lambda: f"a memory sample showing the 200 MiB task (saw {sampled()})")
    os.kill(small_pid, signal.SIGKILL)  # not the worker holding the most memory
    with pytest.raises(WorkerLost) as info:
        small.result(timeout=30)
    assert info.value.peak_rss is not None and info.value.peak_rss < 100 * MiB
    assert not info.value.highest_rss_on_node
    beacon.open_gate(gate)  # the task holding 200 MiB now kills its worker
    with pytest.raises(WorkerLost) as info:
        hog.result(timeout=30)
    assert info.value.peak_rss is not None and info.value.peak_rss >= 200 * MiB
    assert info.value.highest_rss_on_node
    assert "SIGKILL" in str(info.value) and "the most of the node's workers" in str(info.value)

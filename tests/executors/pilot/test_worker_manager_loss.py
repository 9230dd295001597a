"""Lost workers and managers fail their tasks quickly; the executor keeps serving."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest
from pilot_tasks import add, getpid, kill_self_after, sleep_then

from plait.executors._errors import ManagerLost, WorkerLost


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
def test_killed_block_fails_tasks_with_manager_lost(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    futs = [ex.submit(sleep_then, {}, 30) for _ in range(2)]
    job_id = ex.blocks_to_job_id["0"]
    time.sleep(0.3)  # workload: let both tasks reach the workers
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
def test_silent_manager_is_lost_after_heartbeat_threshold(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    (mgr,) = ex.connected_managers()
    fut = ex.submit(sleep_then, {}, 30)
    time.sleep(0.2)  # workload: let the task reach a worker
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
    deadline = time.monotonic() + 20
    while len(manager.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # nothing signals a restart to the test: a deadline helper
    assert len(manager.children()) == 2

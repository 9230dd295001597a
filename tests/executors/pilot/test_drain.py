"""drain_period: a manager stops taking tasks, finishes what it holds, then exits."""

from __future__ import annotations

import psutil
import pytest
from pilot_tasks import add, sleep_then

from conftest import local_provider, session_processes


@pytest.mark.timeout(60)
def test_manager_drains_then_exits(make_htex):
    ex, _ = make_htex(provider=local_provider(), drain_period=2.0)
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    (mgr,) = ex.connected_managers()
    running = ex.submit(sleep_then, {}, 2.5, "finished")
    assert running.result(timeout=30) == "finished"  # drain lets the running task end
    _, alive = psutil.wait_procs([psutil.Process(mgr["pid"])], timeout=15)
    assert not alive
    assert ex.connected_managers() == []
    job = int(ex.blocks_to_job_id["0"])
    _, alive = psutil.wait_procs(session_processes({job}), timeout=15)
    assert not alive
    assert not ex.bad_state_is_set  # a drained block is not a failure

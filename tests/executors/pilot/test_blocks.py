"""The block interface the scaling strategy uses: scale_out, scale_in, poll_status, wake-ups."""

from __future__ import annotations

import os
import threading

import pytest
from pilot_tasks import add, sleep_then

from conftest import local_provider, session_processes
from plait.executors.pilot._executor import HighThroughputExecutor
from plait.providers import JobState, LocalProvider
from waiting import wait_until


@pytest.mark.timeout(60)
def test_scale_out_then_scale_in_an_idle_block(make_htex):
    ex, _ = make_htex(provider=local_provider(init_blocks=0))
    woke = threading.Event()
    ex.set_wakeup(woke.set)
    fut = ex.submit(add, {}, 1, 2)
    assert woke.wait(5)  # outstanding went from 0 to 1
    assert ex.scale_out(2) == ["0", "1"]
    assert fut.result(timeout=30) == 3
    busy = ex.submit(sleep_then, {}, 2.0, "done")
    assert {f.result(timeout=30) for f in [ex.submit(add, {}, i, 0) for i in range(20)]} \
        == set(range(20))
    # nothing signals a registration to the test
    wait_until(lambda: len(ex.connected_managers()) == 2, 30, "both blocks' managers")
    managers = ex.connected_managers()
    assert sorted(m["block_id"] for m in managers) == ["0", "1"]
    busy_block = next(m["block_id"] for m in managers if m["tasks"])
    chosen = ex.scale_in(1, max_idletime=0.0)
    assert chosen and chosen[0] != busy_block  # only an idle block with no task
    assert busy.result(timeout=30) == "done"
    status = ex.poll_status()
    assert status[chosen[0]].state == JobState.SCALED_IN
    assert not session_processes({int(ex.blocks_to_job_id[chosen[0]])})
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4
    assert ex.workers_per_node == 2


@pytest.mark.timeout(60)
def test_default_provider_is_local_with_script_dir(tmp_path):
    ex = HighThroughputExecutor(label="defaults", heartbeat_period=0.5,
                                heartbeat_threshold=2.0, max_workers_per_node=1)
    assert isinstance(ex.provider, LocalProvider)
    ex.provider.worker_init = local_provider().worker_init
    ex.run_dir = str(tmp_path)
    with ex:
        ex.start()
        assert ex.submit(add, {}, 3, 4).result(timeout=30) == 7
        assert ex.provider.script_dir == os.path.join(str(tmp_path), "submit_scripts")
        assert os.listdir(ex.provider.script_dir)
    assert not session_processes({int(j) for j in ex.blocks_to_job_id.values()})

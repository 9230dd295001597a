"""The interchange dying fails every outstanding task; shutdown is prompt, total, idempotent."""

from __future__ import annotations

import os
import signal
import time

import pytest
from pilot_tasks import add, announce_then_sleep, sleep_then

from conftest import assert_all_gone
from plait.executors._errors import BadStateException, InterchangeLost


@pytest.mark.timeout(60)
def test_interchange_killed_fails_all_outstanding(make_htex):
    ex, provider = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    futs = [ex.submit(sleep_then, {}, 30) for _ in range(10)]
    os.kill(ex._client.child.pid, signal.SIGKILL)
    t0 = time.monotonic()
    for fut in futs:
        with pytest.raises(InterchangeLost, match="SIGKILL") as info:
            fut.result(timeout=10)
    assert time.monotonic() - t0 < 5
    assert info.value.log_path and info.value.log_path.endswith("interchange.log")
    with pytest.raises(InterchangeLost):
        ex.submit(add, {}, 1, 1)
    t0 = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t0 < 5
    assert_all_gone(ex, provider)


@pytest.mark.timeout(60)
def test_shutdown_without_wait_is_prompt_and_leaves_nothing(make_htex, beacon):
    ex, provider = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    futs = [ex.submit(announce_then_sleep, {}, beacon.path, 3600) for _ in range(4)]
    beacon.wait_lines(2)  # both workers run a task; two more wait in the manager
    t0 = time.monotonic()
    ex.shutdown(wait=False)
    assert time.monotonic() - t0 < 3
    for fut in futs:
        with pytest.raises(BadStateException, match="shut down"):
            fut.result(timeout=5)
    assert_all_gone(ex, provider, timeout=5)
    ex.shutdown()  # idempotent
    with pytest.raises(BadStateException, match="not running"):
        ex.submit(add, {}, 1, 1)


@pytest.mark.timeout(60)
def test_shutdown_tolerates_dead_parts(make_htex):
    ex, provider = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    job_id = ex.blocks_to_job_id["0"]
    os.killpg(int(job_id), signal.SIGKILL)
    os.kill(ex._client.child.pid, signal.SIGKILL)
    t0 = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t0 < 5
    assert_all_gone(ex, provider)


@pytest.mark.timeout(60)
def test_shutdown_before_any_block_connects(make_htex):
    ex, provider = make_htex(start=False)
    ex.start()
    t0 = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t0 < 5
    assert_all_gone(ex, provider)

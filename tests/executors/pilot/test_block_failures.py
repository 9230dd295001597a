"""Blocks whose managers never start fail the waiting tasks with BlockFailed; no endless retry."""

from __future__ import annotations

import time

import pytest
from pilot_tasks import add

from conftest import local_provider
from plait.executors._errors import BlockFailed


def _expect_block_failed(ex, match: str, within: float) -> BlockFailed:
    fut = ex.submit(add, {}, 1, 2)
    t0 = time.monotonic()
    with pytest.raises(BlockFailed) as info:
        fut.result(timeout=30)
    assert time.monotonic() - t0 < within
    assert ex.bad_state_is_set
    with pytest.raises(BlockFailed):  # later tasks are refused at once
        ex.submit(add, {}, 1, 2)
    assert match in str(info.value), str(info.value)
    return info.value


@pytest.mark.timeout(60)
def test_worker_init_exit_fails_tasks_with_exit_code_and_stderr(make_htex):
    provider = local_provider(worker_init="echo 'module load broke' >&2; exit 3")
    ex, _ = make_htex(provider=provider)
    err = _expect_block_failed(ex, "module load broke", within=10)
    assert err.exitcode == 3 and "exited with code 3" in str(err)
    assert len(ex.blocks_to_job_id) == 1  # no endless scale-out


@pytest.mark.timeout(60)
def test_missing_module_in_launch_command(make_htex):
    ex, _ = make_htex(launch_cmd="python3 -m plait_no_such_module_xyz {block_id}")
    err = _expect_block_failed(ex, "No module named", within=10)
    assert err.exitcode == 1


@pytest.mark.timeout(60)
def test_unreachable_address_ends_block_after_probe_timeout(make_htex):
    ex, _ = make_htex(address="192.0.2.1", address_probe_timeout=1.0)
    err = _expect_block_failed(ex, "no reply from the interchange at 192.0.2.1", within=15)
    assert err.exitcode == 2


@pytest.mark.timeout(60)
def test_workers_that_cannot_start_end_the_block(make_htex):
    # CPUs 998 and 999 do not exist: every worker fails to pin itself and exits at once.
    ex, _ = make_htex(cpu_affinity="list:998:999")
    err = _expect_block_failed(ex, "workers exit before starting", within=20)
    assert "cannot pin to CPUs 99" in str(err) and "cpu_affinity" in str(err)

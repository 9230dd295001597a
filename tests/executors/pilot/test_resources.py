"""Per-task resource specifications, priorities, accelerators and CPU affinity, for real."""

from __future__ import annotations

import os

import pytest
from pilot_tasks import add, announce_then_wait, interval, pid_and_affinity, pid_and_env, stamp

from plait.executors._errors import InvalidResourceSpecification


@pytest.mark.timeout(60)
def test_unknown_resource_keys_are_refused_at_submit(make_htex):
    ex, _ = make_htex()
    with pytest.raises(InvalidResourceSpecification, match="gpus"):
        ex.submit(add, {"gpus": 1, "cores": 1}, 1, 2)
    assert ex.submit(add, {"cores": 1, "memory": 10, "priority": 3}, 1, 2).result(
        timeout=30) == 3


@pytest.mark.timeout(60)
def test_priority_orders_dispatch(make_htex, beacon):
    # No prefetch: the manager holds only the running task, so the interchange's queue is
    # the only one and its order is the order tasks run in.
    ex, _ = make_htex(max_workers_per_node=1, prefetch_capacity=0)
    gate = beacon.gate("blocker")
    blocker = ex.submit(announce_then_wait, {}, beacon.path, gate)
    beacon.wait_lines(1)
    prios = [5, None, 1, 3, 1, 0]
    futs = [ex.submit(stamp, {} if p is None else {"priority": p}) for p in prios]
    ex.connected_managers()  # a command answered after the tasks: all of them are queued
    beacon.open_gate(gate)
    blocker.result(timeout=30)
    order = sorted(range(len(prios)), key=lambda i: futs[i].result(timeout=30))
    assert order == [5, 2, 4, 3, 0, 1]  # lower first, ties in submission order, none last


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.timeout(60)
def test_tasks_asking_for_all_cores_do_not_share_the_node(make_htex):
    ex, _ = make_htex()
    cores = len(os.sched_getaffinity(0))
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    plain = [ex.submit(interval, {}, 0.5) for _ in range(2)]
    a, b = (f.result(timeout=30) for f in plain)
    assert _overlap(a, b)  # two workers run default tasks side by side
    big = [ex.submit(interval, {"cores": cores}, 0.5) for _ in range(2)]
    a, b = (f.result(timeout=30) for f in big)
    assert not _overlap(a, b)


@pytest.mark.timeout(60)
def test_each_worker_is_pinned_to_one_accelerator(make_htex):
    ex, _ = make_htex(available_accelerators=["gpu-a", "gpu-b"], max_workers_per_node=4)
    futs = [ex.submit(pid_and_env, {}, "CUDA_VISIBLE_DEVICES", 0.3) for _ in range(6)]
    seen = {}
    for f in futs:
        pid, device = f.result(timeout=30)
        assert seen.setdefault(pid, device) == device
    assert sorted(seen.values()) == ["gpu-a", "gpu-b"]  # two workers, one device each
    (mgr,) = ex.connected_managers()
    assert mgr["worker_count"] == 2
    zfut = ex.submit(pid_and_env, {}, "ZE_AFFINITY_MASK")
    assert zfut.result(timeout=30)[1] in ("gpu-a", "gpu-b")


@pytest.mark.timeout(60)
def test_block_cpu_affinity_pins_workers(make_htex):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.fail("this test needs at least 2 CPUs")
    ex, _ = make_htex(cpu_affinity="block")
    futs = [ex.submit(pid_and_affinity, {}, 0.3) for _ in range(4)]
    pinned = {}
    for f in futs:
        pid, mask, omp = f.result(timeout=30)
        assert len(mask) == 1 and omp == "1"
        pinned[pid] = mask[0]
    assert sorted(pinned.values()) == cpus[:2]

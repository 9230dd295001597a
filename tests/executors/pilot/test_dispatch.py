"""The interchange's dispatch core, driven by events with no sockets and no clock."""

from __future__ import annotations

import functools
import operator

from plait.executors.pilot._dispatch import DispatchCore, ManagerSlot, QueuedTask

D = b"d" * 16


def mgr(mid: bytes, workers: int = 2, prefetch: int = 0, block: str = "0", **kw) -> ManagerSlot:
    return ManagerSlot(mid, block, "host", workers, workers + prefetch, **kw)


def test_batches_up_to_capacity_and_refills_on_results():
    core = DispatchCore(heartbeat_threshold=10)
    for i in range(5):
        core.task_arrived(QueuedTask(i, D))
    core.manager_registered(mgr(b"m1", workers=2, prefetch=1), now=0)
    (first,) = core.dispatch()
    assert [t.task_id for t in first.tasks] == [0, 1, 2] and first.new_digests == [D]
    assert core.dispatch() == []
    done = core.results_arrived(b"m1", [0, 1], now=1)
    assert [t.task_id for t in done] == [0, 1]
    (second,) = core.dispatch()
    assert [t.task_id for t in second.tasks] == [3, 4] and second.new_digests == []


def test_priority_order_lower_first_none_last_ties_fifo():
    core = DispatchCore(10)
    for tid, prio in [(1, None), (2, 5), (3, 1), (4, 5), (5, None), (6, 0)]:
        core.task_arrived(QueuedTask(tid, D, priority=prio))
    core.manager_registered(mgr(b"m", workers=6), now=0)
    (d,) = core.dispatch()
    assert [t.task_id for t in d.tasks] == [6, 3, 2, 4, 1, 5]


def test_explicit_cores_and_memory_need_room_on_the_node():
    core = DispatchCore(10)
    core.manager_registered(mgr(b"m", workers=4, cores_total=4, mem_total=1000), now=0)
    core.task_arrived(QueuedTask(1, D, cores=3))
    core.task_arrived(QueuedTask(2, D, cores=2))
    core.task_arrived(QueuedTask(3, D, memory=2000))
    core.task_arrived(QueuedTask(4, D))
    (d,) = core.dispatch()
    assert [t.task_id for t in d.tasks] == [1, 4]  # 2 would exceed 4 cores; 3 never fits here
    core.results_arrived(b"m", [1], now=1)
    (d,) = core.dispatch()
    assert [t.task_id for t in d.tasks] == [2]
    assert core.pending_count == 1


def test_lost_manager_returns_its_tasks_and_silence_is_detected():
    core = DispatchCore(heartbeat_threshold=5)
    core.manager_registered(mgr(b"a"), now=0)
    core.manager_registered(mgr(b"b"), now=0)
    for i in range(4):
        core.task_arrived(QueuedTask(i, D))
    actions = core.dispatch()
    held = {a.mid: [t.task_id for t in a.tasks] for a in actions}
    assert sorted(functools.reduce(operator.iadd, held.values(), [])) == [0, 1, 2, 3]
    core.heard_from(b"a", now=4)
    assert core.silent_managers(now=6) == [b"b"]
    assert core.next_expiry() == 5
    lost_mgr, lost = core.manager_lost(b"b")
    assert lost_mgr is not None and sorted(t.task_id for t in lost) == sorted(held[b"b"])
    assert core.manager_lost(b"b") == (None, [])
    assert not core.heard_from(b"b", now=7)


def test_held_and_draining_managers_get_nothing():
    core = DispatchCore(10)
    core.manager_registered(mgr(b"a"), now=0)
    core.manager_registered(mgr(b"b"), now=0)
    core.hold(b"a")
    core.drain(b"b")
    core.task_arrived(QueuedTask(1, D))
    assert core.dispatch() == []
    assert core.drained() == [b"b"]
    assert [t.task_id for t in core.drop_pending()] == [1]


def test_function_body_sent_once_per_manager():
    core = DispatchCore(10)
    core.manager_registered(mgr(b"a", workers=1), now=0)
    core.task_arrived(QueuedTask(1, D))
    assert core.dispatch()[0].new_digests == [D]
    core.results_arrived(b"a", [1], now=1)
    core.task_arrived(QueuedTask(2, D))
    assert core.dispatch()[0].new_digests == []


def test_block_id_selector_prefers_lower_blocks():
    core = DispatchCore(10, by_block_id=True)
    core.manager_registered(mgr(b"late", workers=1, block="10"), now=0)
    core.manager_registered(mgr(b"early", workers=1, block="2"), now=0)
    core.task_arrived(QueuedTask(1, D))
    assert core.dispatch()[0].mid == b"early"


def test_describe_reports_idle_time():
    core = DispatchCore(10)
    core.manager_registered(mgr(b"a"), now=0)
    (info,) = core.describe(now=3)
    assert info["idle_duration"] == 3 and info["tasks"] == 0 and info["active"]


def test_idle_workers_everywhere_are_served_before_prefetch():
    core = DispatchCore(10)
    core.manager_registered(mgr(b"a", workers=2, prefetch=2), now=0)
    core.manager_registered(mgr(b"b", workers=2, prefetch=2), now=0)
    for i in range(4):
        core.task_arrived(QueuedTask(i, D))
    sizes = {d.mid: len(d.tasks) for d in core.dispatch()}
    assert sizes == {b"a": 2, b"b": 2}  # not 4 queued on a while b idles
    for i in range(4, 10):
        core.task_arrived(QueuedTask(i, D))
    sizes = {d.mid: len(d.tasks) for d in core.dispatch()}
    assert sizes == {b"a": 2, b"b": 2} and core.pending_count == 2


def test_automatic_prefetch_deepens_for_fast_tasks_and_backs_off_for_slow():
    core = DispatchCore(10)
    m = mgr(b"a", workers=2)
    m.auto_prefetch = True
    core.manager_registered(m, now=0)
    for i in range(100):
        core.task_arrived(QueuedTask(i, D))
    (d,) = core.dispatch(now=0)
    assert len(d.tasks) == 4  # unknown speed: one extra per worker
    core.results_arrived(b"a", [t.task_id for t in d.tasks], now=0.005)
    assert m.fast
    (d,) = core.dispatch(now=0.005)
    assert len(d.tasks) == 18  # 2 workers + 8 queued each
    core.results_arrived(b"a", [t.task_id for t in d.tasks], now=1.0)
    assert not m.fast
    (d,) = core.dispatch(now=1.0)
    assert len(d.tasks) == 4

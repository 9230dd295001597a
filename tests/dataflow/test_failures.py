"""dfk.failed_tasks(): each failure, its exception and tries, and the tasks it blocked."""

from __future__ import annotations

import threading

import pytest

from plait import python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.states import States


@python_app
def boom(tag: str) -> None:
    raise RuntimeError(tag)


@python_app
def ok(*args: object) -> int:
    return 1


def test_failures_list_root_causes_and_blocked_paths(dfk: DataFlowKernel) -> None:
    a = boom("a")
    b = ok(a)            # blocked by a
    c = ok(b)            # blocked by a, through b
    d = boom("d")
    e = ok(c, d)         # blocked by a and d
    fine = ok()
    for fut in (a, b, c, d, e, fine):
        fut.exception(timeout=10)
    dfk.wait_for_current_tasks(timeout=10)
    failures = {f.task_id: f for f in dfk.failed_tasks()}
    assert sorted(failures) == [a.tid, d.tid]
    assert str(failures[a.tid].exception) == "a" and failures[a.tid].func_name == "boom"
    assert failures[a.tid].state is States.failed
    assert len(failures[a.tid].tries) == 1
    assert failures[a.tid].blocked == [(b.tid, "ok"), (c.tid, "ok"), (e.tid, "ok")]
    assert failures[d.tid].blocked == [(e.tid, "ok")]


def test_cancelled_tasks_are_listed(dfk: DataFlowKernel) -> None:
    gate = threading.Event()

    @python_app
    def wait() -> int:
        assert gate.wait(10)
        return 1

    first = wait()
    cancelled = ok(first)
    after = ok(cancelled)
    assert cancelled.cancel()
    gate.set()
    with pytest.raises(Exception, match="cancelled"):
        after.result(timeout=10)
    (failure,) = dfk.failed_tasks()
    assert failure.task_id == cancelled.tid and failure.state is States.cancelled
    assert failure.blocked == [(after.tid, "ok")]

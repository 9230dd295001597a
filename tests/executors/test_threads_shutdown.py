"""ThreadPoolExecutor: a submit racing shutdown() either runs or fails, never hangs."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, wait

import pytest

from plait.executors import ThreadPoolExecutor
from plait.executors._errors import BadStateException


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as possible, so that the race window is hit within seconds."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("wait_for_tasks", [True, False], ids=["wait", "nowait"])
def test_submit_racing_shutdown_runs_or_fails(fast_switching: None, wait_for_tasks: bool) -> None:
    """Before the fix, submit() checked "shut down" without the lock: a task accepted after
    the stop markers were queued was never run and its future never completed."""
    accepted: list[Future[int]] = []
    refused = 0
    for _ in range(1500):
        ex = ThreadPoolExecutor(max_threads=2)
        ex.start()
        go = threading.Barrier(3)
        mine: list[list[Future[int]]] = [[], []]
        refusals = [0, 0]

        def hammer(i: int, ex: ThreadPoolExecutor = ex, go: threading.Barrier = go,
                   mine: list[list[Future[int]]] = mine, refusals: list[int] = refusals) -> None:
            go.wait(10)
            for _ in range(50):
                try:
                    mine[i].append(ex.submit(int, {}, 7))
                except BadStateException:
                    refusals[i] += 1
                    return

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        go.wait(10)
        ex.shutdown(wait=wait_for_tasks)
        for t in threads:
            t.join(10)
        accepted += mine[0] + mine[1]
        refused += sum(refusals)
    done, not_done = wait(accepted, timeout=30)
    states = sorted({f._state for f in not_done})  # type: ignore[attr-defined]
    assert not not_done, f"{len(not_done)} accepted tasks never ran nor failed: {states}"
    for fut in done:
        assert fut.cancelled() or fut.result() == 7
    assert refused, "the race was never hit: no submit saw the executor shut down"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("wait_for_tasks", [True, False], ids=["wait", "nowait"])
def test_a_task_queued_behind_the_stop_markers_is_cancelled(
        monkeypatch: pytest.MonkeyPatch, wait_for_tasks: bool) -> None:
    """The interleaving the race above needs, forced: shutdown() runs between submit()'s
    check and its put, so the task lands behind the stop markers. It must be cancelled (by
    the last worker to stop, or by submit() once every worker is gone), not left."""
    from plait._lightfuture import LightFuture
    from plait.executors import _threads

    ex = ThreadPoolExecutor(max_threads=2)
    ex.start()
    assert ex.submit(int, {}, 7).result(timeout=10) == 7

    def future_after_shutdown() -> LightFuture[int]:
        ex.shutdown(wait=wait_for_tasks)
        return LightFuture()

    monkeypatch.setattr(_threads, "LightFuture", future_after_shutdown)
    late = ex.submit(int, {}, 7)
    done, _ = wait([late], timeout=10)
    assert done and late.cancelled()
    with pytest.raises(BadStateException):
        ex.submit(int, {}, 7)

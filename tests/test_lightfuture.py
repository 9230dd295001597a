"""LightFuture behaves like concurrent.futures.Future, including under concurrency."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import pytest

from plait._lightfuture import LightFuture


def test_result_exception_timeout_and_callbacks() -> None:
    fut: LightFuture[int] = LightFuture()
    seen: list[int] = []
    fut.add_done_callback(lambda f: seen.append(f.result()))
    with pytest.raises(cf.TimeoutError):
        fut.result(timeout=0.01)
    fut.set_result(3)
    assert fut.result() == 3 and seen == [3]
    fut.add_done_callback(lambda f: seen.append(f.result() + 1))
    assert seen == [3, 4]
    with pytest.raises(cf.InvalidStateError):
        fut.set_result(4)
    bad: LightFuture[int] = LightFuture()
    bad.set_exception(KeyError("k"))
    assert isinstance(bad.exception(), KeyError)
    with pytest.raises(KeyError):
        bad.result()


def test_cancel() -> None:
    fut: LightFuture[int] = LightFuture()
    assert fut.cancel() and fut.cancelled() and fut.done()
    with pytest.raises(cf.CancelledError):
        fut.result(timeout=1)
    running: LightFuture[int] = LightFuture()
    assert running.set_running_or_notify_cancel()
    assert not running.cancel()


def test_waiters_woken_from_other_threads_and_stdlib_helpers() -> None:
    futs: list[LightFuture[int]] = [LightFuture() for _ in range(200)]
    results: list[int] = []

    def wait_one(f: LightFuture[int]) -> None:
        results.append(f.result(timeout=10))

    waiters = [threading.Thread(target=wait_one, args=(f,)) for f in futs[:50]]
    for t in waiters:
        t.start()
    setters = [threading.Thread(target=f.set_result, args=(i,)) for i, f in enumerate(futs)]
    for t in setters:
        t.start()
    done = {f.result() for f in cf.as_completed(futs, timeout=10)}
    assert done == set(range(200))
    for t in waiters + setters:
        t.join(timeout=10)
    assert sorted(results) == list(range(50))
    assert cf.wait(futs, timeout=1).not_done == set()


def test_small() -> None:
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    futs = [LightFuture() for _ in range(1000)]
    per_future = (tracemalloc.get_traced_memory()[0] - before) / len(futs)
    tracemalloc.stop()
    assert per_future < 400  # a stdlib Future takes about 1.6 KB

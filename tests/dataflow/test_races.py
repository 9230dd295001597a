"""Races in the kernel, each driven to its bad interleaving on purpose.

Interleavings are forced with hooks (a lock that runs code right after it is released, an
executor whose shutdown releases a task, a subscriber that acts on one event), never with
sleeps: each test would fail on the code before its fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, RetryBackoff, ThreadPoolExecutor, python_app
from plait.dataflow._events import TaskStateChanged
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.states import States
from plait.errors import BadStateException


class HookLock:
    """A lock that, once armed, runs ``hook`` right after its next release."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hook: Callable[[], None] | None = None

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *_: object) -> None:
        self._lock.release()
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()

    def acquire(self, *args: Any) -> bool:
        return self._lock.acquire(*args)

    def release(self) -> None:
        self.__exit__()


@python_app
def after(gate: int, ran: threading.Event) -> str:
    ran.set()
    return "ran"


def test_cancel_racing_a_launch_never_reports_a_running_task_as_cancelled(
    dfk: DataFlowKernel,
) -> None:
    """Before the fix, cancel_task read "pending", let go of the lock, and a launch got in
    between: the task ran while its future said cancelled."""
    gate: Future[int] = Future()
    ran = threading.Event()
    moves: list[TaskStateChanged] = []
    dfk.subscribe(moves.append)
    fut = after(gate, ran)
    task = fut.task_record
    lock = HookLock()
    real_lock_for = dfk._book.lock_for
    dfk._book.lock_for = lambda t: lock if t is task else real_lock_for(t)  # type: ignore[method-assign,assignment,return-value]
    lock.hook = lambda: gate.set_result(1)  # the dependency completes mid-cancel
    cancelled = fut.cancel()
    launched = [m for m in moves if m.task_id == task.id and m.new is States.launched]
    if cancelled:
        assert fut.cancelled() and not launched and task.state is States.cancelled
        with pytest.raises(CancelledError):
            fut.result(timeout=10)
    else:
        assert fut.result(timeout=10) == "ran" and launched


# -- cleanup at every point of a retry with backoff --------------------------------------
class ReleasingThreads(ThreadPoolExecutor):
    """Sets ``gate`` when the kernel starts shutting it down (a task waiting on it fails)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(max_threads=2)
        self.gate = gate

    def shutdown(self, wait: bool = True) -> None:
        self.gate.set()
        super().shutdown(wait=wait)


TRIED: dict[str, int] = {}


@python_app
def fail_waiting(key: str, gate: threading.Event, started: threading.Event,
                 wait_on_try: int) -> None:
    TRIED[key] = tries = TRIED.get(key, 0) + 1
    if tries - 1 == wait_on_try:
        started.set()
        gate.wait(30)
    raise ValueError(f"boom on try {tries - 1}")


@contextmanager
def backoff_kernel(tmp_path: Path, gate: threading.Event,
                   initial: float) -> Iterator[DataFlowKernel]:
    plait.clear()
    dfk = plait.load(Config(executors=[ReleasingThreads(gate)], run_dir=str(tmp_path / "r"),
                            strategy="none", retries=3,
                            retry_backoff=RetryBackoff(initial=initial, factor=1, jitter=0)))
    try:
        yield dfk
    finally:
        dfk.cleanup(wait=False)
        plait.clear()


POINTS = {
    # point: (backoff seconds, try that waits for the gate, event that triggers cleanup)
    "first try running": (30.0, 0, None),
    "waiting out the backoff": (30.0, -1, ("retry", States.pending)),
    "relaunch handed over": (0.01, -1, ("launch1", States.launched)),
    "second try running": (0.01, 1, None),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("wait", [True, False], ids=["wait", "nowait"])
@pytest.mark.parametrize("point", list(POINTS))
def test_cleanup_at_any_point_of_a_retry_completes_the_future(
    tmp_path: Path, point: str, wait: bool,
) -> None:
    """Before the fix, a try that failed after cleanup() closed the retry timer left its
    future pending forever (the RuntimeError was only logged)."""
    backoff, wait_on_try, trigger = POINTS[point]
    gate = threading.Event()
    at_point = threading.Event()  # the trigger event was seen, or the waiting try started
    with backoff_kernel(tmp_path, gate, backoff) as dfk:

        def watch(event: TaskStateChanged) -> None:
            if trigger is None:
                return
            name, state = trigger
            if event.new is state and (name != "launch1" or event.try_id == 1) and (
                    name != "retry" or event.try_id == 1):
                at_point.set()
                if name == "launch1":  # clean up from inside the relaunch itself
                    dfk.cleanup(wait=wait)

        dfk.subscribe(watch)
        fut = fail_waiting(str(tmp_path), gate, at_point, wait_on_try)
        assert at_point.wait(30)
        if not dfk.cleanup_called:
            dfk.cleanup(wait=wait)
        # the task's own error, or BadStateException when cleanup stopped the executor
        # between the relaunch and its submit; either way noted as not retried
        with pytest.raises((ValueError, CancelledError, BadStateException)) as info:
            fut.result(timeout=20)
        if not isinstance(info.value, CancelledError):
            assert "not retried: the kernel was cleaned up" in "".join(
                getattr(info.value, "__notes__", []))
        assert fut.task_record.state in (States.failed, States.cancelled)
        dfk.wait_for_current_tasks(timeout=20)


@python_app
def same(x: int) -> int:
    return x


def test_waiting_for_tasks_finishing_on_many_threads_never_misses_the_last(
    dfk: DataFlowKernel,
) -> None:
    """The counts live per lock stripe and a move takes no lock of its own: a waiter must
    still wake when the last task of any stripe finishes, and every task counts once."""
    total = 0
    for round_ in range(200):
        futs = [same(i) for i in range(round_ % 97 + 1)]  # every stripe, often one task
        total += len(futs)
        dfk.wait_for_current_tasks(timeout=20)
        assert all(f.done() for f in futs)
        counts = dfk.task_state_counts
        assert counts[States.exec_done] == total == sum(counts.values())

"""JobStatusPoller driving an in-memory block executor: event-driven scaling up and down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from plait.scaling import JobStatusPoller

from .conftest import InMemoryBlockExecutor

pytestmark = pytest.mark.timeout(30)
MakeExecutor = Callable[..., InMemoryBlockExecutor]


@pytest.fixture
def pollers() -> Iterator[list[JobStatusPoller]]:
    made: list[JobStatusPoller] = []
    yield made
    for p in made:
        p.close()
    assert not [t for t in threading.enumerate() if t.name == "plait-scaling"]


def start(pollers: list[JobStatusPoller], executors: list[InMemoryBlockExecutor],
          strategy: str | None = "simple", period: float = 60.0,
          max_idletime: float = 60.0) -> JobStatusPoller:
    poller = JobStatusPoller(executors, strategy, strategy_period=period,
                             max_idletime=max_idletime)
    pollers.append(poller)
    poller.start()
    return poller


def test_load_up_scales_out_on_wakeup_not_period(
    make_executor: MakeExecutor, pollers: list[JobStatusPoller],
) -> None:
    ex = make_executor(workers_per_node=2, max_blocks=3)
    start(pollers, [ex], period=60.0)
    began = time.monotonic()
    ex.submit_tasks(5)
    ex.wait_for(lambda: len(ex.blocks) == 3)
    assert time.monotonic() - began < 5  # woken by the executor, not the 60 s period
    assert ex.scale_out_calls == [3] and ex.running_tasks() == 5
    ex.submit_tasks(20)  # more load, but already at max_blocks
    ex.wait_for(lambda: ex.running_tasks() == 6)
    assert len(ex.blocks) == 3 and ex.provider.submitted == 3


def test_idle_blocks_removed_after_max_idletime_down_to_min(
    make_executor: MakeExecutor, pollers: list[JobStatusPoller],
) -> None:
    ex = make_executor(workers_per_node=1, min_blocks=1, max_blocks=3)
    start(pollers, [ex], period=60.0, max_idletime=0.3)
    ex.submit_tasks(3)
    ex.wait_for(lambda: len(ex.blocks) == 3)
    idle_at = time.monotonic()
    ex.finish_tasks(3)
    ex.wait_for(lambda: len(ex.blocks) == 1)
    waited = time.monotonic() - idle_at
    assert 0.3 <= waited < 5, waited  # the idle timer's deadline, not the period
    assert ex.scale_in_calls == [(2, None)]
    # load again: the timer was reset, blocks come back at once
    ex.submit_tasks(2)
    ex.wait_for(lambda: len(ex.blocks) == 2)


def test_htex_auto_scale_drains_idle_blocks_and_keeps_busy_ones(
    make_executor: MakeExecutor, pollers: list[JobStatusPoller],
) -> None:
    ex = make_executor(workers_per_node=1, max_blocks=3)
    start(pollers, [ex], strategy="htex_auto_scale", period=60.0, max_idletime=0.2)
    ex.submit_tasks(3)
    ex.wait_for(lambda: len(ex.blocks) == 3)
    ex.finish_tasks(2)  # one task keeps running
    ex.wait_for(lambda: len(ex.blocks) == 1)
    [busy] = ex.blocks.values()
    assert busy.running == 1  # the running task's block was not removed
    assert all(m == 0.2 for _, m in ex.scale_in_calls)
    ex.finish_tasks(1)


def test_period_is_the_fallback_without_wakeups(
    make_executor: MakeExecutor, pollers: list[JobStatusPoller],
) -> None:
    ex = make_executor(workers_per_node=4, max_blocks=2)
    ex.set_wakeup = lambda callback: None  # type: ignore[method-assign]  # never wakes
    start(pollers, [ex], period=0.2)
    ex.submit_tasks(8)
    ex.wait_for(lambda: len(ex.blocks) == 2)


def test_bad_state_executor_is_skipped(make_executor: MakeExecutor) -> None:
    broken, healthy = make_executor(), make_executor()
    broken.bad_state_is_set = True
    poller = JobStatusPoller([broken, healthy], "simple")  # not started: poll() by hand
    broken.submit_tasks(4)
    healthy.submit_tasks(4)
    poller.poll()
    assert broken.scale_out_calls == [] and healthy.scale_out_calls == [2]


def test_scale_out_error_is_logged_and_scaling_goes_on(
    make_executor: MakeExecutor, caplog: pytest.LogCaptureFixture,
) -> None:
    ex = make_executor(max_blocks=2)
    poller = JobStatusPoller([ex], "simple")
    ex.submit_tasks(2)
    ex.fail_scale_out = RuntimeError("scheduler said no")
    poller.poll()
    assert "scaling inmemory failed" in caplog.text and "scheduler said no" in caplog.text
    ex.fail_scale_out = None
    poller.poll()
    assert len(ex.blocks) == 1


def test_strategy_none_never_scales(make_executor: MakeExecutor) -> None:
    ex = make_executor(min_blocks=0, max_blocks=5)
    poller = JobStatusPoller([ex], None)
    ex.submit_tasks(10)
    poller.poll()
    assert ex.scale_out_calls == [] and ex.scale_in_calls == []


def test_close_stops_at_once(make_executor: MakeExecutor) -> None:
    ex = make_executor(max_blocks=3)
    poller = JobStatusPoller([], "simple", strategy_period=60.0)
    poller.start()
    poller.add_executors([ex])
    [thread] = [t for t in threading.enumerate() if t.name == "plait-scaling"]
    began = time.monotonic()
    poller.close()
    assert time.monotonic() - began < 1 and not thread.is_alive()
    ex.submit_tasks(5)  # wakes nobody; nothing scales after close
    poller.poll()
    assert ex.scale_out_calls == []
    poller.close()  # idempotent


def test_thread_survives_a_failing_poll_status(
    make_executor: MakeExecutor, pollers: list[JobStatusPoller],
) -> None:
    ex = make_executor(max_blocks=1)
    real_poll = ex.poll_status
    calls: list[int] = []

    def flaky_poll() -> dict:  # type: ignore[type-arg]
        calls.append(1)
        if len(calls) == 1:
            raise OSError("scheduler unreachable")
        return real_poll()

    ex.poll_status = flaky_poll  # type: ignore[method-assign]
    ex.submit_tasks(1)  # before start: the first round sees the load and fails
    start(pollers, [ex], period=0.1)
    ex.wait_for(lambda: len(ex.blocks) == 1)  # a later round succeeded
    assert len(calls) >= 2

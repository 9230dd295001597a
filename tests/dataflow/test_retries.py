"""Retries: Config(retries=N), the retry_handler cost model, backoff, and what is never retried.

The decision function gets pure tests; the rest runs real tasks on the thread pool.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, RetryBackoff, ThreadPoolExecutor, python_app
from plait._lightfuture import LightFuture
from plait.dataflow._events import TaskStateChanged
from plait.dataflow._retry import decide_retry
from plait.dataflow._task import Task
from plait.dataflow.dflow import DataFlowKernel
from plait.dataflow.memoization import BasicMemoizer
from plait.dataflow.states import States
from plait.errors import DependencyError, JoinError
from plait.executors import Executor
from plait.executors._errors import WorkerLost

TRIES: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def tried(name: str) -> int:
    with _LOCK:
        TRIES[name] += 1
        return TRIES[name]


@pytest.fixture(autouse=True)
def _reset() -> None:
    TRIES.clear()


@contextmanager
def kernel(run_dir: str, executors: list[Executor] | None = None,
           **options: Any) -> Iterator[DataFlowKernel]:
    plait.clear()
    dfk = plait.load(Config(executors=executors or [ThreadPoolExecutor(max_threads=4)],
                            run_dir=run_dir, strategy="none", **options))
    try:
        yield dfk
    finally:
        dfk.cleanup()
        plait.clear()


@python_app
def always_fails(tag: str) -> None:
    n = tried(tag)
    raise ValueError(f"{tag} try {n}")


@python_app
def fails_until(tag: str, good_try: int) -> int:
    n = tried(tag)
    if n < good_try:
        raise ConnectionError(f"{tag} try {n}")
    return n


@python_app
def consume(x: Any) -> Any:
    tried("consume")
    return x


# -- pure decisions ------------------------------------------------------------------------

def record() -> Task:
    return Task(3, "app", print, (), {}, "threads")


def test_decision_cost_model_without_handler() -> None:
    task = record()
    assert [decide_retry(task, ValueError(), 2, 0, None, None).retry
            for _ in range(3)] == [True, True, False]
    assert task.fail_count == 3 and task.fail_cost == 3


def test_decision_half_cost_handler_gives_five_tries() -> None:
    task = record()
    decisions = [decide_retry(task, ValueError(), 2, 0, lambda e, t: 0.5, None).retry
                 for _ in range(5)]
    assert decisions == [True, True, True, True, False]


def test_decision_propagated_failures_are_never_retried() -> None:
    for exc in (DependencyError([], 3, "app"), JoinError([], 3, "app")):
        decision = decide_retry(record(), exc, 10, 10, lambda e, t: 0.0, None)
        assert not decision.retry and decision.exception is exc


def test_decision_infrastructure_losses_use_their_own_budget() -> None:
    task = record()
    lost = WorkerLost("w1", "node7", task_id=3, exitcode=-9)
    assert [decide_retry(task, lost, 0, 2, None, None).retry for _ in range(3)] == [
        True, True, False]
    assert task.infra_fail_count == 2 and task.fail_cost == 1


def test_decision_backoff_grows_and_is_capped() -> None:
    task = record()
    backoff = RetryBackoff(initial=1, factor=3, maximum=5, jitter=0)
    delays = [decide_retry(task, ValueError(), 9, 0, None, backoff).delay for _ in range(4)]
    assert delays == [1, 3, 5, 5]


# -- real runs ---------------------------------------------------------------------------------

def test_retries_record_every_try(run_dir: str) -> None:
    events: list[TaskStateChanged] = []
    with kernel(run_dir, retries=2) as dfk:
        dfk.subscribe(events.append)
        fut = always_fails("a")
        with pytest.raises(ValueError, match="a try 3"):
            fut.result(timeout=30)
    task = fut.task_record
    assert TRIES["a"] == 3 and task.fail_count == 3 and task.state is States.failed
    assert [t.try_id for t in task.tries] == [0, 1, 2]
    assert all(t.executor == "threads" for t in task.tries)
    assert [str(t.exception) for t in task.tries] == ["a try 1", "a try 2", "a try 3"]
    assert all(t.time_returned is not None and t.time_returned >= t.time_launched
               for t in task.tries)
    assert task.fail_history == [repr(t.exception) for t in task.tries]
    retried = [e for e in events if e.task_id == task.id and e.new is States.fail_retryable]
    assert [e.try_id for e in retried] == [0, 1]


def test_success_on_a_later_try(run_dir: str) -> None:
    with kernel(run_dir, retries=3):
        fut = fails_until("b", 3)
        assert fut.result(timeout=30) == 3
    assert [t.exception is None for t in fut.task_record.tries] == [False, False, True]
    assert fut.task_record.state is States.exec_done


def test_no_retries_by_default(run_dir: str) -> None:
    with kernel(run_dir), pytest.raises(ValueError):
        always_fails("c").result(timeout=30)
    assert TRIES["c"] == 1


def test_handler_cost_model_half_cost_gives_five_tries(run_dir: str) -> None:
    seen: list[tuple[str, int]] = []

    def handler(exc: BaseException, task: Task) -> float:
        seen.append((type(exc).__name__, task.id))
        return 0.5

    with kernel(run_dir, retries=2, retry_handler=handler):
        fut = always_fails("d")
        with pytest.raises(ValueError, match="d try 5"):
            fut.result(timeout=30)
    assert TRIES["d"] == 5 and seen == [("ValueError", fut.tid)] * 5


def test_handler_can_refuse_some_errors(run_dir: str) -> None:
    def handler(exc: BaseException, task: Task) -> float:
        return 100.0 if isinstance(exc, ValueError) else 1.0

    with kernel(run_dir, retries=3, retry_handler=handler):
        with pytest.raises(ValueError):
            always_fails("e").result(timeout=30)
        assert fails_until("f", 3).result(timeout=30) == 3
    assert TRIES["e"] == 1 and TRIES["f"] == 3


def test_handler_that_raises_fails_the_task_not_the_kernel(run_dir: str) -> None:
    def handler(exc: BaseException, task: Task) -> float:
        raise RuntimeError("handler bug")

    with kernel(run_dir, retries=5, retry_handler=handler):
        fut = always_fails("g")
        with pytest.raises(RuntimeError, match="handler bug") as info:
            fut.result(timeout=30)
        assert isinstance(info.value.__cause__, ValueError)  # the original failure, chained
        assert TRIES["g"] == 1
        # the kernel keeps working
        assert fails_until("h", 1).result(timeout=30) == 1


@pytest.mark.timeout(60)
def test_backoff_delays_between_tries(run_dir: str) -> None:
    backoff = RetryBackoff(initial=0.3, factor=2, jitter=0)
    with kernel(run_dir, retries=2, retry_backoff=backoff):
        fut = always_fails("i")
        with pytest.raises(ValueError):
            fut.result(timeout=30)
    tries = fut.task_record.tries
    gaps = [b.time_launched - (a.time_returned or 0) for a, b in itertools.pairwise(tries)]
    assert len(gaps) == 2
    assert 0.3 <= gaps[0] < 0.3 + 2.0  # generous upper bounds: a loaded 2-core machine
    assert 0.6 <= gaps[1] < 0.6 + 2.0


def test_dependency_failure_is_never_retried(run_dir: str) -> None:
    with kernel(run_dir, retries=3):
        parent = always_fails("j")
        child = consume(parent)
        with pytest.raises(DependencyError) as info:
            child.result(timeout=30)
    assert TRIES["j"] == 4 and TRIES["consume"] == 0
    assert child.task_record.tries == [] and child.task_record.state is States.dep_fail
    assert str(parent.tid) in str(info.value)


class LosesFirstTry(Executor):
    """An executor whose first submission is lost with its worker (like a killed node)."""

    def __init__(self) -> None:
        self.label = "lossy"
        self.inner = ThreadPoolExecutor(label="lossy-inner", max_threads=2)
        self.lost = 0

    def start(self) -> None:
        self.inner.run_dir, self.inner.run_id = self.run_dir, self.run_id
        self.inner.start()

    def submit(self, func: Callable[..., Any], resource_specification: dict[str, Any],
               *args: Any, **kwargs: Any) -> Future[Any]:
        if self.lost == 0:
            self.lost += 1
            fut: Future[Any] = LightFuture()
            fut.set_exception(WorkerLost("w0", "node1", exitcode=-9))
            return fut
        return self.inner.submit(func, resource_specification, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        self.inner.shutdown(wait=wait)


def test_lost_worker_is_retried_without_spending_retries(run_dir: str) -> None:
    with kernel(run_dir, executors=[LosesFirstTry()], retries=0):
        fut = fails_until("k", 1)
        assert fut.result(timeout=30) == 1
    first = fut.task_record.tries[0]
    assert isinstance(first.exception, WorkerLost) and first.infrastructure
    assert fut.task_record.fail_cost == 0 and fut.task_record.infra_fail_count == 1


@python_app(cache=True)
def cached_flaky(tag: str) -> str:
    n = tried(tag)
    if n < 2:
        raise ConnectionError("flaky")
    return f"{tag} ok"


@pytest.mark.parametrize("form", ["old", "new"])
def test_retried_cached_task_is_checkpointed_once_in_both_forms(run_dir: str,
                                                               form: str) -> None:
    def options() -> dict[str, Any]:
        return ({"app_cache": True, "checkpoint_mode": "task_exit"} if form == "old"
                else {"memoizer": BasicMemoizer(checkpoint_mode="task_exit")})

    with kernel(run_dir, retries=1, **options()):
        first = cached_flaky("m")
        assert first.result(timeout=30) == "m ok"
    assert len(first.task_record.tries) == 2
    with kernel(run_dir, retries=1, **options()):
        again = cached_flaky("m")
        assert again.result(timeout=30) == "m ok"
        assert again.task_record.state is States.memo_done
    assert TRIES["m"] == 2
    assert len(list((Path(run_dir) / "000" / "checkpoint").iterdir())) == 1

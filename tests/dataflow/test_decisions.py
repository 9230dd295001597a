"""The kernel's decisions with no threads and no executor: a task and an event in, an action out.

Records are built by hand, futures completed by hand; nothing sleeps or waits.
"""

from __future__ import annotations

import logging
import pickle
from concurrent.futures import Future
from typing import Any

import pytest

from plait.dataflow._book import TaskBook
from plait.dataflow._decisions import (
    CANCELLED_AT_CLEANUP,
    DONE,
    Cancel,
    Finish,
    Join,
    TryFailed,
    after_joins,
    after_try,
    dependency_failure,
    failed_dependencies,
    on_cancel,
    retry_cut_short,
)
from plait.dataflow._retry import decide_retry, describe_lost
from plait.dataflow._states import NEXT, InvalidTransition, States
from plait.dataflow._task import Task
from plait.errors import (
    BlockFailed,
    DependencyError,
    InterchangeLost,
    JoinError,
    ManagerLost,
    TaskCancelled,
    TaskKilledWorker,
    WorkerLost,
)

S = States


def record(tid: int = 3, *, join: bool = False, state: States = S.pending) -> Task:
    task = Task(tid, "app", print, (), {}, "threads", join=join)
    task.state = state
    return task


def done(value: Any = None, exc: BaseException | None = None) -> Future[Any]:
    fut: Future[Any] = Future()
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)
    return fut


def cancelled() -> Future[Any]:
    fut: Future[Any] = Future()
    fut.cancel()
    return fut


# -- dependencies ----------------------------------------------------------------------------
def test_all_dependencies_succeeded_means_launch() -> None:
    task = record()
    task.depends = [done(1), done(2)]
    assert failed_dependencies(task) == []


def test_failed_and_cancelled_dependencies_fail_the_task_naming_them() -> None:
    task = record()
    bad, gone = done(exc=ValueError("x")), cancelled()
    task.depends = [done(1), bad, gone]
    failed = failed_dependencies(task)
    assert failed == [bad, gone]
    finish = dependency_failure(task, failed)
    assert finish.state is S.dep_fail
    assert isinstance(finish.exception, DependencyError)
    causes = [type(e) for e, _ in finish.exception.dependent_exceptions_tids]
    assert causes == [ValueError, TaskCancelled]


# -- a try's outcome ------------------------------------------------------------------------
def test_a_result_finishes_the_task() -> None:
    assert after_try(record(state=S.launched), done(42)) is DONE  # the kernel passes 42 on
    assert (DONE.state, DONE.result) == (S.exec_done, None)


def test_an_exception_is_a_failed_try() -> None:
    exc = ValueError("boom")
    assert after_try(record(state=S.launched), done(exc=exc)) == TryFailed(exc)


def test_an_executor_cancellation_finishes_as_cancelled() -> None:
    finish = after_try(record(state=S.launched), cancelled())
    assert isinstance(finish, Finish) and finish.state is S.cancelled
    assert isinstance(finish.exception, TaskCancelled)


def test_a_join_body_returning_futures_waits_for_them() -> None:
    inner = [Future(), Future()]  # type: ignore[var-annotated]
    assert after_try(record(join=True), done(inner)) == Join(inner, inner)
    one: Future[Any] = Future()
    assert after_try(record(join=True), done(one)) == Join(one, [one])


def test_a_join_body_returning_something_else_fails_the_try_unrecorded() -> None:
    action = after_try(record(join=True), done(5))
    assert isinstance(action, TryFailed) and not action.recorded
    assert "must return a Future or a list of Futures, not int" in str(action.exception)


@pytest.mark.parametrize("inner,value", [("one", 1), ("list", [1, 2])])
def test_joined_futures_give_the_result_in_the_shape_returned(inner: str, value: Any) -> None:
    task = record(join=True, state=S.joining)
    task.joins = done(1) if inner == "one" else [done(1), done(2)]
    assert after_joins(task) == Finish(S.exec_done, "joined", value)


def test_a_failed_joined_future_fails_the_join() -> None:
    task = record(join=True, state=S.joining)
    task.joins = [done(1), done(exc=KeyError("k"))]
    finish = after_joins(task)
    assert finish.state is S.failed and isinstance(finish.exception, JoinError)


# -- cancel ------------------------------------------------------------------------------------
@pytest.mark.parametrize("state,has_exec,expected", [
    (S.pending, False, Cancel.NOW),
    (S.launched, True, Cancel.IN_EXECUTOR),
    (S.launched, False, Cancel.TOO_LATE),  # handed over, executor future not back yet
    (S.joining, False, Cancel.TOO_LATE),
    (S.exec_done, False, Cancel.TOO_LATE),
    (S.failed, False, Cancel.TOO_LATE),
    (S.cancelled, False, Cancel.ALREADY),
])
def test_cancel_decision_by_state(state: States, has_exec: bool, expected: Cancel) -> None:
    task = record(state=state)
    if has_exec:
        task.exec_future = Future()
    assert on_cancel(task) is expected


# -- cleanup overtaking a retry ---------------------------------------------------------------
def test_a_retry_cut_short_fails_with_the_last_error_noted() -> None:
    task = record()
    task.record_failed_try(ValueError("boom"))
    finish = retry_cut_short(task)
    assert finish.state is S.failed and isinstance(finish.exception, ValueError)
    assert "was not retried: the kernel was cleaned up" in finish.exception.__notes__[0]


def test_a_retry_cut_short_without_a_recorded_failure_is_cancelled() -> None:
    assert retry_cut_short(record()) is CANCELLED_AT_CLEANUP


# -- losses, classified ----------------------------------------------------------------------
def lost_worker(tid: int = 3, exitcode: int = -9, *, highest: bool | None = None,
                peak: int | None = None) -> WorkerLost:
    exc = WorkerLost("w1", "node7", task_id=tid, exitcode=exitcode, log_path="/r/w1.log")
    if highest is not None:  # the fields the pilot executor reports, when it does
        exc.highest_rss_on_node = highest  # type: ignore[attr-defined]
        exc.peak_rss = peak  # type: ignore[attr-defined]
    return exc


def fail(task: Task, exc: BaseException, retries: int = 0, infra: int = 3) -> Any:
    task.record_failed_try(exc)  # as the kernel does before deciding
    return decide_retry(task, exc, retries, infra, None, None)


def test_a_task_on_two_lost_workers_is_blamed_on_the_second_loss() -> None:
    task = record()
    first = fail(task, lost_worker())
    assert first.retry and first.lost == "worker w1 on node7"
    second = fail(task, lost_worker(), retries=5)
    assert not second.retry
    culprit = second.exception
    assert isinstance(culprit, TaskKilledWorker) and isinstance(culprit.__cause__, WorkerLost)
    text = str(culprit)
    for part in ("task 3 (app)", "likely cause", "each of the 2 workers lost", "SIGKILL(-9)",
                 "/r/w1.log", "infrastructure_retries=0"):
        assert part in text


def test_a_worker_killed_while_its_task_used_the_most_memory_blames_the_task_at_once() -> None:
    decision = fail(record(), lost_worker(highest=True, peak=3 * 2**30))
    assert not decision.retry and isinstance(decision.exception, TaskKilledWorker)
    assert "3.0 GiB" in str(decision.exception) and "most memory" in str(decision.exception)


@pytest.mark.parametrize("exitcode,highest", [(-9, False), (1, True), (-11, None)])
def test_one_loss_without_memory_evidence_is_retried(exitcode: int, highest: bool | None) -> None:
    assert fail(record(), lost_worker(exitcode=exitcode, highest=highest)).retry


@pytest.mark.parametrize("loss", [ManagerLost("m1", "node7", "heartbeats stopped"),
                                  BlockFailed("0", "walltime"), InterchangeLost(-9)],
                         ids=lambda e: type(e).__name__)
def test_losses_that_hit_many_tasks_keep_being_retried(loss: Exception) -> None:
    task = record()
    assert [fail(task, loss).retry for _ in range(4)] == [True, True, True, False]
    assert task.infra_fail_count == 3


def test_without_infrastructure_retries_a_lost_worker_spends_retries_as_in_parsl() -> None:
    task = record()
    decisions = [fail(task, lost_worker(), retries=2, infra=0) for _ in range(3)]
    assert [d.retry for d in decisions] == [True, True, False]
    assert isinstance(decisions[-1].exception, WorkerLost)
    assert task.fail_cost == 3 and decisions[0].lost is None


def test_describe_lost_names_the_component() -> None:
    assert describe_lost(ManagerLost("m1", "node7")) == "manager m1 on node7"
    assert describe_lost(BlockFailed("4", "walltime")) == "block 4"
    assert describe_lost(InterchangeLost(-9)) == "interchange"


def test_task_killed_worker_pickles() -> None:
    err = TaskKilledWorker(3, "app", "why", "w1", "node7", -9, 2**20, "/r/w.log")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is TaskKilledWorker and str(copy) == str(err)


# -- moves: expected state, stale decisions, the story ------------------------------------------
def test_a_move_from_the_expected_state_happens() -> None:
    book, task = TaskBook(keep_finished=False), record()
    book.add(task)
    assert book.move(task, S.launched, "go", S.pending) is True  # nobody subscribed
    assert task.state is S.launched and book.counts()[S.launched] == 1


def test_a_stale_decision_moves_nothing_and_says_so_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book, task = TaskBook(keep_finished=False), record()
    book.add(task)
    book.move(task, S.cancelled, "cancelled by the user", S.pending)
    with caplog.at_level(logging.DEBUG, logger="plait.dataflow"):
        assert book.move(task, S.launched, "handed to its executor", S.pending) is False
    assert task.state is S.cancelled and book.counts()[S.launched] == 0
    assert "stale" in book.story_of(task.id)[-1][2]
    (line,) = [r for r in caplog.records if "stale" in r.getMessage()]
    assert line.levelno == logging.DEBUG and "it is cancelled" in line.getMessage()


def test_an_illegal_move_carries_the_tasks_story() -> None:
    book, task = TaskBook(keep_finished=False), record(7)
    book.add(task)
    other = record(8)
    book.add(other)
    book.move(task, S.launched, "handed to its executor", S.pending)
    book.move(other, S.launched, "someone else", S.pending)
    book.move(task, S.exec_done, "done", S.launched)
    with pytest.raises(InvalidTransition) as info:
        book.move(task, S.pending, "retry 1", S.exec_done)
    err = info.value
    assert err.story == (("pending", "launched", "handed to its executor"),
                         ("launched", "exec_done", "done"))
    assert "pending -> launched (handed to its executor)" in str(err)
    assert "someone else" not in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert copy.story == err.story and str(copy) == str(err)


def test_the_journal_is_bounded() -> None:
    book = TaskBook(keep_finished=False)
    tasks = [record(i) for i in range(5000)]
    for t in tasks:
        book.add(t)
        book.move(t, S.launched, "go", S.pending)
    assert book.story_of(0) == () and len(book.story_of(4999)) == 1


@pytest.mark.parametrize("old,new", [(o, n) for o, ns in NEXT.items() for n in ns])
def test_every_declared_move_goes_through_move(old: States, new: States) -> None:
    book, task = TaskBook(keep_finished=True), record(state=old)
    book.tasks[task.id] = task
    assert book.move(task, new, "walk", old)
    assert task.state is new

"""The kernel's decisions as plain functions: a task and what just happened in, an action out.

No locks, no threads, no executors, no clock: the kernel calls these and carries out what
they return; tests drive them with hand-made records (tests/dataflow/test_decisions.py).
Retries are decided in ``_retry.decide_retry``.

    every dependency done ──▶ failed_dependencies ──▶ [] (launch) | dependency_failure
    executor future done  ──▶ after_try          ──▶ DONE | Finish | TryFailed | Join
    every joined future   ──▶ after_joins        ──▶ Finish(exec_done | failed)
    AppFuture.cancel()    ──▶ on_cancel          ──▶ Cancel (read under the task's lock)
    cleanup() cuts retry  ──▶ retry_cut_short    ──▶ Finish(failed | cancelled)

Each Finish is applied with the state the decision was taken in as ``expect``: a decision
that went stale meanwhile (the task was cancelled, cleaned up, or finished) does nothing.
"""

from __future__ import annotations

import enum
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from plait._errors import DependencyError, JoinError, TaskCancelled, describe_future
from plait.dataflow._futures import failure_of
from plait.dataflow._states import EXECUTING_STATES, States
from plait.dataflow._task import Task


# Actions are slotted dataclasses, not NamedTuples: one is built per task on the hot path,
# and a NamedTuple's Python-level __new__ costs nearly twice as much.
@dataclass(slots=True)
class Finish:
    """Move the task to the final ``state`` and complete its future."""

    state: States
    why: str
    result: Any = None
    exception: BaseException | None = None


@dataclass(slots=True)
class TryFailed:
    """The try failed with ``exception``: decide whether to retry."""

    exception: BaseException
    recorded: bool = True  # whether it counts as a try in ``task.tries`` (it ran)


@dataclass(slots=True)
class Join:
    """A join app's body returned ``inner``: wait for ``futures`` before finishing."""

    inner: Any
    futures: list[Future[Any]]


class Cancel(enum.Enum):
    """What ``AppFuture.cancel()`` can do, given the task's state."""

    NOW = "pending: cancel it here"
    IN_EXECUTOR = "launched: ask its executor future, which refuses once running"
    ALREADY = "already cancelled"
    TOO_LATE = "running, joining or finished"


DONE = Finish(States.exec_done, "done")
"""A try that returned: finish with the executor future's result, passed beside this one
shared action (building a Finish per task would cost every task ~3,000 instructions)."""
CANCELLED_BY_USER = Finish(States.cancelled, "cancelled by the user")
CANCELLED_AT_CLEANUP = Finish(States.cancelled, "kernel cleaned up")


def failed_dependencies(task: Task) -> list[Future[Any]]:
    """The dependencies of ``task`` (all done) that failed or were cancelled."""
    return [d for d in task.depends or () if d.cancelled() or d.exception() is not None]


def dependency_failure(task: Task, failed: list[Future[Any]]) -> Finish:
    """``task`` does not run because ``failed`` (some of its dependencies) failed."""
    causes = [(failure_of(d), describe_future(d)) for d in failed]
    return Finish(States.dep_fail, "dependency failed",
                  exception=DependencyError(causes, task.id, task.func_name))


def after_try(task: Task, exec_fu: Future[Any]) -> Finish | TryFailed | Join:
    """The executor future of ``task``'s current try is done (DONE: it returned a value)."""
    if exec_fu.cancelled():
        return Finish(States.cancelled, "cancelled in its executor",
                      exception=TaskCancelled(task.id, task.func_name))
    exc = exec_fu.exception()
    if exc is not None:
        return TryFailed(exc)
    if task.join:
        return join_of(task, exec_fu.result())
    return DONE


def join_of(task: Task, inner: Any) -> Join | TryFailed:
    """A join app's body returned ``inner``: a future or a list of futures, else an error."""
    if isinstance(inner, Future):
        return Join(inner, [inner])
    if isinstance(inner, list) and all(isinstance(f, Future) for f in inner):
        return Join(inner, inner)
    return TryFailed(TypeError(
        f"join_app {task.func_name} must return a Future or a list of Futures, not "
        f"{type(inner).__name__}: call other apps inside it and return their futures"),
        recorded=False)


def after_joins(task: Task) -> Finish:
    """Every future a join app returned is done (``task.joins`` as its body returned it)."""
    inner = task.joins
    futures: list[Future[Any]] = [inner] if isinstance(inner, Future) else list(inner or ())
    failed = [(failure_of(f), describe_future(f))
              for f in futures if f.cancelled() or f.exception() is not None]
    if failed:
        return Finish(States.failed, "a joined future failed",
                      exception=JoinError(failed, task.id, task.func_name))
    if isinstance(inner, Future):
        return Finish(States.exec_done, "joined", inner.result())
    return Finish(States.exec_done, "joined", [f.result() for f in futures])


def on_cancel(task: Task) -> Cancel:
    """What cancelling ``task`` does now; call with the task's lock held, and apply a
    ``Cancel.NOW`` under the same hold."""
    state = task.state
    if state is States.pending:
        return Cancel.NOW
    if state in EXECUTING_STATES and task.exec_future is not None:
        return Cancel.IN_EXECUTOR
    return Cancel.ALREADY if state is States.cancelled else Cancel.TOO_LATE


def retry_cut_short(task: Task, exc: BaseException | None = None) -> Finish:
    """``task`` was to be retried but the kernel is being cleaned up: it fails with its last
    failure (``exc``, or the last recorded try's), or is cancelled if it has none."""
    if exc is None and task.failed_tries:
        exc = task.failed_tries[-1].exception
    if exc is None:
        return CANCELLED_AT_CLEANUP
    if hasattr(exc, "add_note"):
        exc.add_note(f"{task.describe()} was not retried: the kernel was cleaned up")
    return Finish(States.failed, "not retried: kernel cleaned up", exception=exc)

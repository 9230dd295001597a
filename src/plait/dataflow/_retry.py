"""Retry decisions: Parsl's cost model, plus a budget of its own for lost infrastructure,
the classification of losses the task itself caused, and backoff. Pure: no clock, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from plait._errors import DependencyError, JoinError
from plait._validate import check_number, fail, is_number
from plait.dataflow._errors import TaskKilledWorker
from plait.dataflow._task import Task
from plait.executors._errors import BadStateException, InfrastructureError, WorkerLost


@dataclass(frozen=True)
class RetryBackoff:
    """How long to wait before retrying a failed task (plait addition to Config).

    Before try ``n + 1`` the kernel waits ``min(maximum, initial * factor ** (n - 1))``
    seconds, scaled by a random factor in ``[1 - jitter, 1 + jitter]`` so that many tasks
    failing together do not retry together. ``factor=1`` gives a fixed delay.

    Example: ``Config(retries=5, retry_backoff=RetryBackoff(initial=2, factor=2))``
    waits about 2, 4, 8, 16 and 32 seconds.
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        owner = "RetryBackoff"
        check_number("initial", self.initial, low=0, owner=owner, kind="a number of seconds")
        check_number("factor", self.factor, low=1, owner=owner)
        check_number("maximum", self.maximum, low=0, owner=owner, kind="a number of seconds")
        if not (is_number(self.jitter) and 0 <= self.jitter < 1):
            raise fail("jitter", self.jitter, "a number from 0 up to (not including) 1", owner)

    def delay(self, failed_tries: int) -> float:
        """Seconds to wait after the ``failed_tries``-th failure."""
        base = min(self.maximum, self.initial * self.factor ** max(0, failed_tries - 1))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


class RetryDecision(NamedTuple):
    """What to do after a failed try."""

    retry: bool
    exception: BaseException  # the exception the task fails with if not retried
    delay: float
    lost: str | None = None  # on an infrastructure retry: the component lost, for the log


def decide_retry(
    task: Task, exc: BaseException, retries: int, infrastructure_retries: int,
    handler: Callable[[BaseException, Any], float] | None, backoff: RetryBackoff | None,
) -> RetryDecision:
    """Account for a failed try on ``task`` and decide whether it runs again.

    Infrastructure losses (a dead worker, manager or block) spend their own budget first,
    unless the task itself is the likely cause (see ``blame_task``): then it fails at once
    with TaskKilledWorker. With ``infrastructure_retries=0`` losses are user failures, as
    in Parsl. Propagated failures are never retried; otherwise the cost of this failure is
    ``handler(exc, task)`` (1 without a handler) and the task retries while its total cost
    stays within ``retries``. A handler that raises ends the retries, and its exception
    (chained to the task's) becomes the task's failure.
    """
    task.fail_count += 1
    if isinstance(exc, (DependencyError, JoinError)):
        return RetryDecision(False, exc, 0.0)
    # An executor in bad state (every block failed) fails every try the same way: a retry
    # would only repeat the error, so such a loss goes to the user's budget at once.
    if (isinstance(exc, InfrastructureError) and not isinstance(exc, BadStateException)
            and infrastructure_retries > 0):
        culprit = blame_task(task, exc)
        if culprit is not None:
            return RetryDecision(False, culprit, 0.0)
        if task.infra_fail_count < infrastructure_retries:
            task.infra_fail_count += 1
            return RetryDecision(True, exc, 0.0, describe_lost(exc))
    if handler is None:
        cost = 1.0
    else:
        try:
            cost = float(handler(exc, task))
        except Exception as handler_exc:
            handler_exc.__cause__ = exc
            if hasattr(handler_exc, "add_note"):
                handler_exc.add_note(f"raised by Config.retry_handler while handling the "
                                     f"failure of {task.describe()}: {exc!r}")
            task.fail_cost = retries + 1
            return RetryDecision(False, handler_exc, 0.0)
    task.fail_cost += cost
    if task.fail_cost > retries:
        return RetryDecision(False, exc, 0.0)
    user_failures = task.fail_count - task.infra_fail_count
    return RetryDecision(True, exc, backoff.delay(user_failures) if backoff else 0.0)


def blame_task(task: Task, exc: InfrastructureError) -> TaskKilledWorker | None:
    """The error to fail ``task`` with if it, not the infrastructure, likely killed its
    worker; None for a loss to retry.

    Evidence, for a lost worker only (a lost manager, block or interchange hits every task
    on it, so it says nothing about one task): this is the second worker lost while
    running this task, or the worker died of a signal while its memory was the highest on
    its node (``WorkerLost.highest_rss_on_node``, when the executor reports it).
    """
    if not isinstance(exc, WorkerLost):
        return None
    earlier = sum(1 for t in task.failed_tries or ()
                  if isinstance(t.exception, WorkerLost) and t.exception is not exc)
    exitcode = exc.exitcode
    if earlier:
        reason = f"it was running on each of the {earlier + 1} workers lost"
    elif exitcode is not None and exitcode < 0 and getattr(exc, "highest_rss_on_node", False):
        reason = "its worker died of a signal while using the most memory on its node"
    else:
        return None
    culprit = TaskKilledWorker(task.id, task.func_name, reason, exc.worker_id, exc.hostname,
                               exitcode, getattr(exc, "peak_rss", None), exc.log_path)
    culprit.__cause__ = exc
    return culprit


def describe_lost(exc: InfrastructureError) -> str:
    """``'worker 3 on node7'``: the component an infrastructure error reports lost."""
    what = exc.executor if isinstance(exc.executor, str) else type(exc).__name__
    host = getattr(exc, "hostname", None)
    return f"{what} on {host}" if host else what

"""The DataFlowKernel: turns app calls into tasks and runs each when its inputs are ready.

    app call ──submit()──▶ Task (pending) ──deps count down──▶ _launch ──▶ executor
    executor future done ──▶ _exec_done ──▶ exec_done | joining | retry | failed ──▶ AppFuture
                                             └─ dependents' countdown ─┘

What to do next is decided by the plain functions of ``_decisions`` and ``_retry``; this
module carries their actions out. Every state move names the state it expects to leave,
and is decided and applied under one hold of the task's lock, so a decision that went
stale (a cancel, a cleanup, another thread) is a no-op, never a wrong move.

Threads: submit() runs in the user's thread; completions arrive on executor threads;
delayed retries on the delayer's. No kernel lock is held while user code, an executor or a
subscriber runs. Work triggered by a completion (launching dependents, failing them) goes
through ``_soon`` (a Trampoline's ``soon``), so long chains never recurse on the stack.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from plait._config import Config
from plait._errors import ConfigurationError, NoDataFlowKernelError
from plait._lightfuture import LightFuture
from plait.data._files import File
from plait.data._manager import INHIBIT_KWARG, DataManager, involves
from plait.dataflow import _deps
from plait.dataflow._book import TaskBook
from plait.dataflow._decisions import (
    CANCELLED_AT_CLEANUP,
    CANCELLED_BY_USER,
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
from plait.dataflow._delayer import Delayer
from plait.dataflow._events import Subscriber
from plait.dataflow._failures import FailedTask, FailureLog
from plait.dataflow._finishing import Finisher
from plait.dataflow._futures import AppFuture
from plait.dataflow._kwargs import read_special_kwargs
from plait.dataflow._lifecycle import INTERNAL_EXECUTOR, RunResources
from plait.dataflow._retry import decide_retry
from plait.dataflow._states import FINAL_STATES, States
from plait.dataflow._task import Task
from plait.dataflow._trampoline import Step, Trampoline
from plait.executors._base import Executor

if TYPE_CHECKING:
    from plait.dataflow._summary import TaskSummary

log = logging.getLogger("plait.dataflow")

_NO_RESOURCES: dict[str, Any] = {}  # shared, read-only: the resource spec of most tasks
S = States


class DataFlowKernel:
    """Runs the tasks of one loaded Config (Parsl's ``DataFlowKernel``).

    Usually made by ``plait.load(config)``; build one directly to keep it out of the global
    slot, and bind apps to it with ``data_flow_kernel=``. Use it as a context manager, or
    call ``cleanup()`` when done.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config = config if config is not None else Config()
        config.validate()
        self._run = run = RunResources(config)
        self.memoizer, self.run_id, self.run_dir = run.memoizer, run.run_id, run.run_dir
        self.executors: dict[str, Executor] = run.executors
        self._book = TaskBook(keep_finished=not config.garbage_collect)
        self.tasks = self._book.tasks
        self._ids = itertools.count()
        self._soon = Trampoline(self._internal_error).soon
        self._on_exec_done = self._exec_done  # bound once: every launch registers it
        self._delayer: Delayer[Task] = Delayer(f"plait-retry-{self.run_id[:8]}",
                                               partial(self._soon, self._launch))
        self._failures = FailureLog()
        self._done = Finisher(self._book, self.memoizer, self._failures)
        self._resolver = (None if config.dependency_resolver in
                          (None, _deps.SHALLOW_DEPENDENCY_RESOLVER)
                          else config.dependency_resolver)
        self._keep_args = bool(config.retries)
        self.cleanup_called = False
        self._started = time.time()
        self.monitoring = config.monitoring  # a MonitoringHub, started by run.start(self)
        self.data_manager = DataManager(self)
        try:
            run.start(self)
            self._usage = run.usage  # a UsageTracker when Config.usage_tracking asks for one
        except BaseException:
            log.exception("plait could not start; stopping what was started")
            self.cleanup(wait=False)
            raise

    def add_executors(self, executors: Sequence[Executor]) -> None:
        """Start ``executors`` and make them available to apps (also after load)."""
        self._run.add_executors(executors)

    def on_cleanup(self, hook: Callable[[DataFlowKernel], object]) -> None:
        """Call ``hook(self)`` at the end of ``cleanup()`` (the loader forgets the kernel so)."""
        self._run.cleanup_hooks.append(hook)

    # -- observing ----------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(TaskStateChanged)`` on every state change; returns an unsubscriber."""
        return self._book.events.add(callback)

    def task_summary(self) -> TaskSummary:
        """Counts per state and per app and the failures so far (a TaskSummary)."""
        from plait.dataflow._summary import summarize

        return summarize(self, self._started)

    @property
    def task_state_counts(self) -> dict[States, int]:
        """How many tasks are in each state right now (final states: ever reached)."""
        return self._book.counts()

    @property
    def task_count(self) -> int:
        """How many tasks were submitted to this kernel."""
        return sum(self._book.counts().values())

    def _internal_error(self, task: Task, exc: Exception) -> None:
        """A kernel bug (an InvalidTransition, say) fails the task with it: never vanishes."""
        log.error("internal error handling %s", task.describe(), exc_info=exc)
        book = self._book
        with book.lock_for(task):
            state = task.state  # decided and applied under this one hold
            if state in FINAL_STATES:
                return
            failed = Finish(S.failed, f"internal error: {exc!r}", exception=exc)
            moved, fut = self._done.settle(task, failed, state)
        self._done.complete(task, fut, moved, failed)

    # -- submission ---------------------------------------------------------------------------
    def submit(
        self, func: Callable[..., Any], app_args: tuple[Any, ...], app_kwargs: dict[str, Any],
        *, func_name: str, executors: str | Sequence[str] = "all", cache: bool = False,
        ignore_for_cache: Sequence[str] = (), join: bool = False, drop: Sequence[str] = (),
    ) -> AppFuture:
        """Create a task running ``func(*app_args, **app_kwargs)``; return its AppFuture now.

        ``drop`` names special keyword arguments the kernel reads but the function does
        not take.
        """
        if self.cleanup_called:
            raise NoDataFlowKernelError("Cannot submit to a DFK that has been cleaned up: "
                                        "load a new config with plait.load()")
        labels = self._run.user_labels
        if join:
            label = INTERNAL_EXECUTOR
        elif executors == "all" and len(labels) == 1:
            label = labels[0]
        else:
            label = self._run.choose_executor(executors)
        task = Task(next(self._ids), func_name, func, app_args, app_kwargs, label,
                    cache, tuple(ignore_for_cache) if ignore_for_cache else (), join,
                    time_invoked=time.time())
        fut = AppFuture(task, self)
        task.future = fut
        if app_kwargs:
            read_special_kwargs(task, fut, app_kwargs, self.run_dir, self.config.std_autopath)
        if self._run.sandboxed or File.made:  # files to stage, maybe; may raise: then no task
            app_args, app_kwargs = self._stage(task, fut, app_args, app_kwargs)
        deps = _deps.gather(self._resolver, app_args, app_kwargs)
        if deps:
            task.depends = deps  # before add(): subscribers see it with the submission
        self._book.add(task)
        for name in drop:
            del app_kwargs[name]
        if not deps:
            self._launch(task)
            return fut
        task.waiting = len(deps) + 1  # +1 until every callback is registered
        callback = partial(self._count_down, self._launch_ready, task)
        for dep in deps:
            dep.add_done_callback(callback)
        callback()
        return fut

    def _stage(self, task: Task, fut: AppFuture, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Put the staging of the task's files into the graph (see plait.data._manager);
        return the arguments the task gets instead."""
        staging = kwargs.get(INHIBIT_KWARG)
        if staging:  # a staging task itself: it runs as staging_in or staging_out
            task.launch_state = (S.staging_out if staging == "out" or
                                 not kwargs.get("outputs") else S.staging_in)
        if task.executor not in self._run.sandboxed and not involves(args, kwargs):
            return args, kwargs
        staged = self.data_manager.stage_task(task.executor, task.func, args, kwargs, fut,
                                              task.id)
        task.func, task.args, task.kwargs = staged.func, staged.args, staged.kwargs
        task.outputs = staged.outputs or None
        task.stdout = staged.stdout or task.stdout
        task.stderr = staged.stderr or task.stderr
        task.ignore_for_cache = (*task.ignore_for_cache, *staged.ignore_for_cache)
        return staged.args, staged.kwargs

    def _count_down(self, step: Step, task: Task, _: object = None) -> None:
        """One awaited future (a dependency, a joined future) is done: the last one runs
        ``step``. Never recounts: ``task.waiting`` holds how many are still to come."""
        with self._book.lock_for(task):
            task.waiting -= 1
            if task.waiting:
                return
        self._soon(step, task)

    # -- launch -------------------------------------------------------------------------------
    def _launch_ready(self, task: Task) -> None:
        """All dependencies are done: fail the task if one failed, else hand it over."""
        if task.state is not S.pending:  # cancelled while waiting: nothing to decide
            return
        failed = failed_dependencies(task)
        if failed:
            self._failures.task_blocked(task, failed)
            self._done.finish(task, dependency_failure(task, failed), S.pending)
            return
        assert task.args is not None and task.kwargs is not None
        task.args, task.kwargs = _deps.unwrap(self._resolver, task.args, task.kwargs)
        task.depends = None
        self._launch(task)

    def _launch(self, task: Task) -> None:
        memo = self.memoizer
        if task.cache and memo is not None and memo.memoize and self._memo_hit(task):
            return
        book = self._book
        with book.lock_for(task):
            moved = book.move(task, task.launch_state, "handed to its executor", S.pending)
        if moved is False:  # cancelled or cleaned up since the launch was decided
            return
        if moved is not True:  # an event for subscribers (emit() inlined: every task's path)
            book.events.emit(moved)
        task.try_time_launched = time.time()
        args, kwargs = task.args or (), task.kwargs or {}
        executor = self.executors.get(task.executor)
        if not self._keep_args and not (self.config.infrastructure_retries and
                                        executor is not None and executor.tasks_can_be_lost):
            task.args = task.kwargs = None  # never needed again: free large arguments now
        try:
            if executor is None:
                raise ConfigurationError(
                    f"{task.describe()} asked for executor {task.executor!r}, but this "
                    f"config has only {', '.join(map(repr, self._run.user_labels))}: fix "
                    "the app's executors=[...] list")
            exec_fu = executor.submit(task.func, task.resource_specification or _NO_RESOURCES,
                                      *args, **kwargs)
        except Exception as exc:
            exec_fu = Future()
            exec_fu.set_exception(exc)
        task.exec_future = exec_fu
        if type(exec_fu) is LightFuture:  # plait's executors: no closure per task
            exec_fu.task = task
            exec_fu.add_done_callback(self._on_exec_done)
        else:
            exec_fu.add_done_callback(partial(self._exec_done, task=task))

    def _memo_hit(self, task: Task) -> bool:
        """Finish ``task`` from the memo table if its result is known; report whether."""
        assert self.memoizer is not None
        try:
            hit = self.memoizer.check_memo(task)
        except Exception as exc:  # e.g. an argument that cannot be hashed stably
            self._try_failed(task, exc, S.pending)
            return True
        if hit is None:
            return False
        task.from_memo = True
        failure = hit.exception()
        if failure is not None:
            self._try_failed(task, failure, S.pending)
        else:
            self._done.finish(task, Finish(S.memo_done, "memoized", hit.result()), S.pending)
        return True

    # -- completion ---------------------------------------------------------------------------
    def _exec_done(self, exec_fu: Future[Any], task: Task | None = None) -> None:
        if task is None:  # a LightFuture carries its task (see _launch)
            light: LightFuture[Any] = exec_fu  # type: ignore[assignment]
            task, light.task = light.task, None
        task.exec_future = None
        task.try_time_returned = time.time()
        try:  # an executor's callback: an error here would only be logged by the future
            action = after_try(task, exec_fu)
            running = task.launch_state  # launched, or a staging task's staging_in/out
            if action is DONE:
                self._done.finish(task, DONE, running, exec_fu.result())
            elif type(action) is Finish:
                self._done.finish(task, action, running)
            elif type(action) is TryFailed:
                if action.recorded:
                    task.record_failed_try(action.exception)
                self._try_failed(task, action.exception, running)
            else:
                assert type(action) is Join
                self._start_join(task, action)
        except Exception as exc:
            self._internal_error(task, exc)

    def _try_failed(self, task: Task, exc: BaseException, expect: States) -> None:
        cfg = self.config
        decision = decide_retry(task, exc, cfg.retries, cfg.infrastructure_retries,
                                cfg.retry_handler, cfg.retry_backoff)
        if not decision.retry:
            final = Finish(S.failed, "failed", exception=decision.exception)
            self._done.finish(task, final, expect)
            return
        if self.cleanup_called:  # executors are stopping: a retry could not run
            self._done.finish(task, retry_cut_short(task, exc), expect)
            return
        book = self._book
        with book.lock_for(task):
            failed = book.move(task, S.fail_retryable, repr(exc), expect)
            if not failed:
                return
            task.try_id += 1
            task.try_time_launched = task.try_time_returned = None
            again = book.move(task, S.pending, f"retry {task.try_id}", S.fail_retryable)
        book.emit(failed)
        book.emit(again)
        if decision.lost is not None:
            log.warning("%s was lost with %s (%s); retrying it as try %d (infrastructure "
                        "retry %d of %d)", task.describe(), decision.lost, type(exc).__name__,
                        task.try_id + 1, task.infra_fail_count, cfg.infrastructure_retries)
        if decision.delay <= 0:
            self._soon(self._launch, task)
        elif not self._delayer.call_later(decision.delay, task):  # closed by cleanup()
            self._done.finish(task, retry_cut_short(task, exc), S.pending)

    def _start_join(self, task: Task, join: Join) -> None:
        book = self._book
        with book.lock_for(task):
            moved = book.move(task, S.joining, "waiting for the futures it returned",
                              S.launched)
            if not moved:
                return
            task.joins, task.waiting = join.inner, len(join.futures) + 1
        book.emit(moved)
        callback = partial(self._count_down, self._joins_complete, task)
        for f in join.futures:
            f.add_done_callback(callback)
        callback()

    def _joins_complete(self, task: Task) -> None:
        self._done.finish(task, after_joins(task), S.joining)

    # -- user operations ----------------------------------------------------------------------
    def cancel_task(self, task: Task) -> bool:
        """Cancel ``task`` if it has not started running; see ``AppFuture.cancel``."""
        with self._book.lock_for(task):
            decision = on_cancel(task)  # decided and applied under one hold
            if decision is Cancel.NOW:
                moved, fut = self._done.settle(task, CANCELLED_BY_USER, S.pending)
            exec_fu = task.exec_future
        if decision is Cancel.NOW:
            self._done.complete(task, fut, moved, CANCELLED_BY_USER)
            return True
        if decision is Cancel.IN_EXECUTOR and exec_fu is not None:
            return exec_fu.cancel()  # _exec_done then moves the task to cancelled
        return decision is Cancel.ALREADY

    def submit_lifted(self, op: Callable[[Any, Any], Any], fut: AppFuture, key: Any) -> AppFuture:
        """A task applying ``op(result_of_fut, key)`` on the internal executor."""
        return self.submit(op, (fut, key), {}, func_name=getattr(op, "__name__", "lifted"),
                           executors=[INTERNAL_EXECUTOR])

    def failed_tasks(self) -> list[FailedTask]:
        """The tasks of this run that failed or were cancelled, by id: each with its
        exception, its tries, and the tasks that did not run because of it."""
        return self._failures.failed_tasks()

    def checkpoint(self) -> int:
        """Write the checkpoint records of tasks finished since the last one; return how many
        (for ``checkpoint_mode='manual'``; other modes write on their own)."""
        return self.memoizer.checkpoint() if self.memoizer is not None else 0

    def wait_for_current_tasks(self, timeout: float | None = None) -> None:
        """Block until every task submitted so far has reached a final state."""
        self._book.wait_idle(timeout)

    def cleanup(self, wait: bool = True) -> None:
        """Stop scaling, shut down every executor and release the run's resources.

        Idempotent. Tasks that have not started are cancelled (their futures say so), and
        tasks waiting to be retried fail with their last error; with ``wait=True`` running
        tasks finish first (without further retries), with ``wait=False`` (an interrupted
        script) executors are stopped at once. Every future is complete when it returns,
        except those of tasks an executor stopped with ``wait=False`` still has to report.
        """
        if self.cleanup_called:
            return
        self.cleanup_called = True
        self._run.clean_up(self, wait, self._settle_unfinished)

    def _settle_unfinished(self) -> None:
        """At cleanup: tasks awaiting a retry fail with their last error, pending tasks are
        cancelled (each move expects ``pending``: one that launched meanwhile is left)."""
        for task in self._delayer.close():
            self._done.finish(task, retry_cut_short(task), S.pending)
        for task in list(self.tasks.values()):
            if task.state is S.pending:
                self._done.finish(task, CANCELLED_AT_CLEANUP, S.pending)

    def __enter__(self) -> DataFlowKernel:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        mode = self.config.exit_mode
        if mode == "skip":
            return
        interrupted = exc_type is not None
        try:
            if mode == "wait" and not interrupted:
                self.wait_for_current_tasks()
        finally:
            self.cleanup(wait=not interrupted)

"""The DataFlowKernel: turns app calls into tasks and runs each when its inputs are ready.

    app call ──submit()──▶ Task (pending) ──deps count down──▶ _launch ──▶ executor
    executor future done ──▶ _exec_done ──▶ exec_done | retry | failed ──▶ AppFuture
                                             └─ dependents' countdown ─┘

Threads: submit() runs in the user's thread; completions arrive on executor threads. No
kernel lock is held while user code, an executor or a subscriber runs. Work triggered by a
completion (launching dependents, failing them) goes through ``_soon``, a per-thread queue
drained by the thread that started it, so long chains never recurse on the stack.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from types import TracebackType
from typing import Any

from plait._children import kill_task_processes
from plait._config import Config
from plait._errors import (
    ConfigurationError,
    DependencyError,
    NoDataFlowKernelError,
    TaskCancelled,
    describe_future,
)
from plait.data._files import File
from plait.data._futures import DataFuture
from plait.data._manager import INHIBIT_KWARG, DataManager, involves
from plait.dataflow import _deps
from plait.dataflow._book import TaskBook
from plait.dataflow._events import Subscriber
from plait.dataflow._failures import FailedTask, FailureLog
from plait.dataflow._futures import AppFuture
from plait.dataflow._join import Joiner
from plait.dataflow._memoizer import make_memoizer
from plait.dataflow._retry import Delayer, decide_retry
from plait.dataflow._rundir import add_file_logger, make_rundir, remove_file_logger
from plait.dataflow._states import (
    EXECUTING_STATES,
    FINAL_STATES,
    InvalidTransition,
    States,
)
from plait.dataflow._task import Task
from plait.executors._base import Executor
from plait.executors._threads import ThreadPoolExecutor

log = logging.getLogger("plait.dataflow")

INTERNAL_EXECUTOR = "_parsl_internal"
AUTO_LOGNAME = -1
"""Give as ``stdout=``/``stderr=`` to get a file per task under ``<run_dir>/task_logs``."""
_NO_RESOURCES: dict[str, Any] = {}  # shared, read-only: the resource spec of most tasks


class DataFlowKernel:
    """Runs the tasks of one loaded Config (Parsl's ``DataFlowKernel``).

    Usually made by ``plait.load(config)``; build one directly to keep it out of the global
    slot, and bind apps to it with ``data_flow_kernel=``. Use it as a context manager, or
    call ``cleanup()`` when done.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config = config if config is not None else Config()
        config.validate()
        self.memoizer = make_memoizer(config)
        self.run_id = str(uuid.uuid4())
        self.run_dir = make_rundir(config.run_dir)
        self._log_handler = (add_file_logger(f"{self.run_dir}/plait.log", config.log_level)
                             if config.initialize_logging else None)
        log.info("plait run %s in %s", self.run_id, self.run_dir)
        if config.monitoring is not None:
            log.warning("Config.monitoring is accepted but this plait release does not yet "
                        "write a monitoring database; tasks run unmonitored")
        self._book = TaskBook(keep_finished=not config.garbage_collect)
        self.tasks = self._book.tasks
        self._ids = itertools.count()
        self._local = threading.local()
        self._delayer = Delayer(f"plait-retry-{self.run_id[:8]}")
        self._joiner = Joiner(self)
        self._failures = FailureLog()
        self._resolver = (None if config.dependency_resolver in
                          (None, _deps.SHALLOW_DEPENDENCY_RESOLVER)
                          else config.dependency_resolver)
        self._keep_args = bool(config.retries)
        self.cleanup_called = False
        self.executors: dict[str, Executor] = {}
        self._user_labels: list[str] = []
        self.data_manager = DataManager(self)
        self._sandboxed: set[str] = set()  # labels of executors that run tasks in sandboxes
        self._poller: Any = None
        try:
            if self.memoizer is not None:
                self.memoizer.start(run_dir=self.run_dir, config_run_dir=config.run_dir)
            self.add_executors(config.executor_list)
            self.add_executors([ThreadPoolExecutor(INTERNAL_EXECUTOR,
                                                   config.internal_tasks_max_threads)])
        except BaseException:
            log.exception("plait could not start; stopping what was started")
            self.cleanup(wait=False)
            raise

    # -- set-up ---------------------------------------------------------------------------
    def add_executors(self, executors: Sequence[Executor]) -> None:
        """Start ``executors`` and make them available to apps (also after load)."""
        for ex in executors:
            if ex.label in self.executors:
                raise ConfigurationError("executors", ex.label, "a label not already in use")
            ex.run_dir, ex.run_id = self.run_dir, self.run_id
            provider = getattr(ex, "provider", None)
            if provider is not None and getattr(provider, "script_dir", "unset") is None:
                provider.script_dir = f"{self.run_dir}/submit_scripts"
            try:
                ex.start()
            except BaseException:
                ex.shutdown(wait=False)  # release whatever it started before failing
                raise
            self.executors[ex.label] = ex
            if getattr(ex, "sandbox", False):
                self._sandboxed.add(ex.label)
            if ex.label != INTERNAL_EXECUTOR:
                self._user_labels.append(ex.label)
        block_executors = [ex for ex in executors if getattr(ex, "provider", None) is not None]
        if block_executors:
            self._start_scaling(block_executors)

    def _start_scaling(self, executors: list[Executor]) -> None:
        from plait.scaling import JobStatusPoller  # loads only for block executors

        if self._poller is None:
            self._poller = JobStatusPoller(
                executors=[], strategy=self.config.strategy,
                strategy_period=self.config.strategy_period,
                max_idletime=self.config.max_idletime)
            self._poller.start()
        self._poller.add_executors(executors)

    # -- observing ----------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(TaskStateChanged)`` on every state change; returns an unsubscriber."""
        return self._book.events.add(callback)

    @property
    def task_state_counts(self) -> dict[States, int]:
        """How many tasks are in each state right now (final states: ever reached)."""
        return self._book.counts()

    @property
    def task_count(self) -> int:
        """How many tasks were submitted to this kernel."""
        return sum(self._book.counts().values())

    def _soon(self, fn: Callable[[Task], None], task: Task) -> None:
        """Run ``fn(task)`` now unless this thread is already draining; then queue it."""
        local = self._local
        queue: deque[tuple[Callable[[Task], None], Task]] | None = getattr(local, "q", None)
        if queue is not None:
            queue.append((fn, task))
            return
        local.q = queue = deque([(fn, task)])
        try:
            while queue:
                fn, task = queue.popleft()
                try:
                    fn(task)
                except Exception as exc:  # a kernel bug must fail the task, not vanish
                    log.exception("internal error handling %s", task.describe())
                    self._finish_failed(task, exc, f"internal error: {exc!r}")
        finally:
            local.q = None

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
        if join:
            label = INTERNAL_EXECUTOR
        elif executors == "all" and len(self._user_labels) == 1:
            label = self._user_labels[0]
        else:
            label = self._choose_executor(executors)
        task = Task(next(self._ids), func_name, func, app_args, app_kwargs, self, label,
                    cache, tuple(ignore_for_cache) if ignore_for_cache else (), join,
                    time_invoked=time.time())
        fut = task.future = AppFuture(task)
        if app_kwargs:
            self._read_special_kwargs(task, fut, app_kwargs)
        if self._sandboxed or File.made:  # files to stage, maybe; may raise: then no task
            app_args, app_kwargs = self._stage(task, fut, app_args, app_kwargs)
        self._book.add(task)
        deps = _deps.gather(self._resolver, app_args, app_kwargs)
        for name in drop:
            del app_kwargs[name]
        if not deps:
            self._launch(task)
            return fut
        task.depends = deps
        task.waiting = len(deps) + 1  # +1 until every callback is registered
        callback = partial(self._dep_done, task)
        for dep in deps:
            dep.add_done_callback(callback)
        self._dep_done(task)
        return fut

    def _choose_executor(self, executors: str | Sequence[str]) -> str:
        if executors == "all":
            return random.choice(self._user_labels)
        if isinstance(executors, str) or not isinstance(executors, (list, tuple)):
            raise ConfigurationError("executors", executors, "'all' or a list of labels")
        return random.choice(list(executors))

    def _read_special_kwargs(self, task: Task, fut: AppFuture, kwargs: dict[str, Any]) -> None:
        spec = kwargs.get("parsl_resource_specification")
        if spec:
            task.resource_specification = spec
        for stream in ("stdout", "stderr"):
            value = kwargs.get(stream)
            if type(value) is int and value == AUTO_LOGNAME:
                kwargs[stream] = self._auto_logname(task, stream, kwargs.get("label"))
                task.ignore_for_cache = (*task.ignore_for_cache, stream)
        task.stdout, task.stderr = kwargs.get("stdout"), kwargs.get("stderr")
        outputs = kwargs.get("outputs")
        if outputs:
            task.outputs = [DataFuture(fut, f, task.id) for f in outputs if isinstance(f, File)]

    def _stage(self, task: Task, fut: AppFuture, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Put the staging of the task's files into the graph (see plait.data._manager);
        return the arguments the task gets instead."""
        staging = kwargs.get(INHIBIT_KWARG)
        if staging:  # a staging task itself: it runs as staging_in or staging_out
            task.launch_state = (States.staging_out if staging == "out" or
                                 not kwargs.get("outputs") else States.staging_in)
        if task.executor not in self._sandboxed and not involves(args, kwargs):
            return args, kwargs
        staged = self.data_manager.stage_task(task.executor, task.func, args, kwargs, fut,
                                              task.id)
        task.func, task.args, task.kwargs = staged.func, staged.args, staged.kwargs
        task.outputs = staged.outputs or None
        task.stdout = staged.stdout or task.stdout
        task.stderr = staged.stderr or task.stderr
        task.ignore_for_cache = (*task.ignore_for_cache, *staged.ignore_for_cache)
        return staged.args, staged.kwargs

    def _auto_logname(self, task: Task, stream: str, label: object) -> Any:
        if self.config.std_autopath is not None:
            return self.config.std_autopath(task, stream)
        suffix = f"_{label}" if label else ""
        return (f"{self.run_dir}/task_logs/{task.id // 10000:04d}/"
                f"task_{task.id:04d}_{task.func_name}{suffix}.{stream}")

    def _dep_done(self, task: Task, _: object = None) -> None:
        with self._book.lock_for(task):
            task.waiting -= 1
            if task.waiting:
                return
        self._soon(self._launch_ready, task)

    # -- launch -------------------------------------------------------------------------------
    def _launch_ready(self, task: Task) -> None:
        """All dependencies are done: fail the task if one failed, else hand it over."""
        if task.state is not States.pending:  # cancelled while waiting
            return
        failed_deps = [d for d in task.depends or ()
                       if d.cancelled() or d.exception() is not None]
        if failed_deps:
            self._failures.task_blocked(task, failed_deps)
            failed = [(failure_of(d), describe_future(d)) for d in failed_deps]
            self._finish(task, States.dep_fail, None,
                         DependencyError(failed, task.id, task.func_name), "dependency failed")
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
            if task.state is not States.pending:  # cancelled meanwhile
                return
            event = book.move(task, task.launch_state, "handed to its executor")
        if event is not None:
            book.emit(event)
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
                    f"config has only {', '.join(map(repr, self._user_labels))}: fix the "
                    "app's executors=[...] list")
            exec_fu = executor.submit(task.func, task.resource_specification or _NO_RESOURCES,
                                      *args, **kwargs)
        except Exception as exc:
            exec_fu = Future()
            exec_fu.set_exception(exc)
        task.exec_future = exec_fu
        exec_fu.add_done_callback(partial(self._exec_done, task))

    def _memo_hit(self, task: Task) -> bool:
        """Finish ``task`` from the memo table if its result is known; report whether."""
        assert self.memoizer is not None
        try:
            hit = self.memoizer.check_memo(task)
        except Exception as exc:  # e.g. an argument that cannot be hashed stably
            self._try_failed(task, exc)
            return True
        if hit is None:
            return False
        task.from_memo = True
        failure = hit.exception()
        if failure is not None:
            self._try_failed(task, failure)
        else:
            self._finish(task, States.memo_done, hit.result(), None, "memoized")
        return True

    # -- completion ---------------------------------------------------------------------------
    def _exec_done(self, task: Task, exec_fu: Future[Any]) -> None:
        task.exec_future = None
        task.try_time_returned = time.time()
        if exec_fu.cancelled():
            self._finish(task, States.cancelled, None,
                         TaskCancelled(task.id, task.func_name), "cancelled in its executor")
            return
        exc = exec_fu.exception()
        if exc is not None:
            task.record_failed_try(exc)
            self._try_failed(task, exc)
        elif task.join:
            self._joiner.start(task, exec_fu.result())
        else:
            self._finish(task, States.exec_done, exec_fu.result(), None, "done")

    def _try_failed(self, task: Task, exc: BaseException) -> None:
        cfg = self.config
        decision = decide_retry(task, exc, cfg.retries, cfg.infrastructure_retries,
                                cfg.retry_handler, cfg.retry_backoff)
        if not decision.retry:
            self._finish(task, States.failed, None, decision.exception, "failed")
            return
        book = self._book
        with book.lock_for(task):
            if task.state in FINAL_STATES:  # cancelled while running
                return
            events = [book.move(task, States.fail_retryable, repr(exc))]
            task.try_id += 1
            task.try_time_launched = task.try_time_returned = None
            events.append(book.move(task, States.pending, f"retry {task.try_id}"))
        for event in events:
            book.emit(event)
        if decision.delay > 0:
            self._delayer.call_later(decision.delay, partial(self._soon, self._launch, task))
        else:
            self._soon(self._launch, task)

    def _finish(self, task: Task, state: States, result: Any, exc: BaseException | None,
                why: str) -> None:
        """Move ``task`` to a final state and complete its future, releasing the lock first."""
        book = self._book
        with book.lock_for(task):
            if task.state in FINAL_STATES:
                return
            event = book.move(task, state, why)
            fut, task.future = task.future, None  # break the cycle: the future keeps the task
        task.time_returned = time.time()
        task.args = task.kwargs = task.depends = None
        if task.hashsum is not None and self.memoizer is not None and state is not States.cancelled:
            self._record_memo(task, state, result, exc)
        if state is States.failed or state is States.cancelled:
            self._failures.task_failed(task, exc)
        if event is not None:
            book.emit(event)
        assert fut is not None
        if state is States.cancelled:
            super(AppFuture, fut).cancel()
        elif exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)

    def _record_memo(self, task: Task, state: States, result: Any,
                     exc: BaseException | None) -> None:
        assert self.memoizer is not None
        try:
            if state is States.exec_done:
                self.memoizer.update_memo_result(task, result)
            elif exc is not None:
                self.memoizer.update_memo_exception(task, exc)
        except Exception:
            log.exception("could not record the result of %s for memoization",
                          task.describe())

    def _finish_failed(self, task: Task, exc: BaseException, why: str) -> None:
        if task.state not in FINAL_STATES:
            try:
                self._finish(task, States.failed, None, exc, why)
            except InvalidTransition:
                log.exception("could not fail %s", task.describe())

    # -- user operations ----------------------------------------------------------------------
    def cancel_task(self, task: Task) -> bool:
        """Cancel ``task`` if it has not started running; see ``AppFuture.cancel``."""
        with self._book.lock_for(task):
            state, exec_fu = task.state, task.exec_future
        if state in EXECUTING_STATES and exec_fu is not None:
            return exec_fu.cancel()  # _exec_done then moves the task to cancelled
        if state is not States.pending:
            return state is States.cancelled
        self._finish(task, States.cancelled, None, None, "cancelled by the user")
        return task.state is States.cancelled

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

        Idempotent. Tasks that have not started are cancelled (their futures say so);
        with ``wait=True`` running tasks finish first, with ``wait=False`` (an interrupted
        script) executors are stopped at once.
        """
        if self.cleanup_called:
            return
        self.cleanup_called = True
        log.info("cleaning up; task states: %s",
                 {s.name: n for s, n in self.task_state_counts.items() if n})
        if self._poller is not None:
            self._poller.close()
        self._delayer.close()
        for task in list(self.tasks.values()):
            if task.state is States.pending:
                self._finish(task, States.cancelled, None, None, "kernel cleaned up")
        if not wait:
            kill_task_processes()
        for ex in self.executors.values():
            try:
                ex.shutdown(wait=wait)
            except Exception:
                log.exception("shutting down executor %s failed", ex.label)
        if self.memoizer is not None:
            try:
                self.memoizer.close()
            except Exception:
                log.exception("final checkpoint failed")
        from plait.dataflow._loader import DataFlowKernelLoader

        DataFlowKernelLoader.forget(self)
        log.info("plait run %s finished", self.run_id)
        if self._log_handler is not None:
            remove_file_logger(self._log_handler)

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


def failure_of(fut: Future[Any]) -> BaseException:
    """The exception a failed or cancelled future stands for."""
    if not fut.cancelled():
        exc = fut.exception()
        assert exc is not None
        return exc
    if isinstance(fut, AppFuture):
        return TaskCancelled(fut.task.id, fut.task.func_name)
    return TaskCancelled(-1, repr(fut))

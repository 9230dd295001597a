"""The DataFlowKernel: turns app calls into tasks and runs each when its inputs are ready.

    app call ──submit()──▶ Task (pending) ──deps count down──▶ launch ──▶ executor
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
    JoinError,
    NoDataFlowKernelError,
    TaskCancelled,
    describe_future,
)
from plait.data._files import File
from plait.data._futures import DataFuture
from plait.dataflow import _deps
from plait.dataflow._events import Subscriber, Subscribers, TaskStateChanged
from plait.dataflow._futures import AppFuture
from plait.dataflow._memoizer import make_memoizer
from plait.dataflow._retry import Delayer, decide_retry
from plait.dataflow._rundir import add_file_logger, make_rundir, remove_file_logger
from plait.dataflow._states import FINAL_STATES, InvalidTransition, States, is_legal
from plait.dataflow._task import Task, TryRecord
from plait.executors._base import Executor
from plait.executors._threads import ThreadPoolExecutor

log = logging.getLogger("plait.dataflow")

INTERNAL_EXECUTOR = "_parsl_internal"
AUTO_LOGNAME = -1
"""Give as ``stdout=``/``stderr=`` to get a file per task under ``<run_dir>/task_logs``."""
_STRIPES = 64


class DataFlowKernel:
    """Runs the tasks of one loaded Config (Parsl's ``DataFlowKernel``).

    Usually made by ``plait.load(config)``; build one directly to keep it out of the global
    slot, and bind apps to it with ``data_flow_kernel=``. Use it as a context manager, or
    call ``cleanup()`` when done.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config = config if config is not None else Config()
        config.validate()
        self.run_id = str(uuid.uuid4())
        self.run_dir = make_rundir(config.run_dir)
        self._log_handler = (add_file_logger(f"{self.run_dir}/plait.log", config.log_level)
                             if config.initialize_logging else None)
        log.info("plait run %s in %s", self.run_id, self.run_dir)
        self.tasks: dict[int, Task] = {}
        self._ids = itertools.count()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._counts_cond = threading.Condition()
        self._counts = dict.fromkeys(States, 0)
        self._live = 0
        self._local = threading.local()
        self._events = Subscribers()
        self._delayer = Delayer(f"plait-retry-{self.run_id[:8]}")
        self._resolver = (None if config.dependency_resolver in
                          (None, _deps.SHALLOW_DEPENDENCY_RESOLVER)
                          else config.dependency_resolver)
        self.cleanup_called = False
        self._warn_unimplemented(config)
        self.executors: dict[str, Executor] = {}
        self._user_labels: list[str] = []
        self._poller: Any = None
        self.memoizer = make_memoizer(config)
        if self.memoizer is not None:
            self.memoizer.start(run_dir=self.run_dir, config_run_dir=config.run_dir)
        self.add_executors(config.executor_list)
        self.add_executors([ThreadPoolExecutor(INTERNAL_EXECUTOR,
                                               config.internal_tasks_max_threads)])

    # -- set-up ---------------------------------------------------------------------------
    @staticmethod
    def _warn_unimplemented(config: Config) -> None:
        if config.monitoring is not None:
            log.warning("Config.monitoring is accepted but plait %s does not yet write a "
                        "monitoring database; tasks run unmonitored", _version())

    def add_executors(self, executors: Sequence[Executor]) -> None:
        """Start ``executors`` and make them available to apps (also after load)."""
        for ex in executors:
            if ex.label in self.executors:
                raise ConfigurationError("executors", ex.label, "a label not already in use")
            ex.run_dir, ex.run_id = self.run_dir, self.run_id
            provider = getattr(ex, "provider", None)
            if provider is not None and getattr(provider, "script_dir", "unset") is None:
                provider.script_dir = f"{self.run_dir}/submit_scripts"
            ex.start()
            self.executors[ex.label] = ex
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

    # -- events and counts ------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(TaskStateChanged)`` on every state change; returns an unsubscriber."""
        return self._events.add(callback)

    @property
    def task_state_counts(self) -> dict[States, int]:
        """How many tasks are in each state right now (final states: ever reached)."""
        with self._counts_cond:
            return dict(self._counts)

    @property
    def task_count(self) -> int:
        """How many tasks were submitted to this kernel."""
        with self._counts_cond:
            return sum(self._counts.values())

    def _stripe(self, task: Task) -> threading.Lock:
        return self._stripes[task.id % _STRIPES]

    def _move(self, task: Task, new: States, why: str) -> TaskStateChanged | None:
        """Change ``task``'s state; the only place that does. Call with its stripe held;
        emit the returned event (if any) after releasing it."""
        old = task.state
        if not is_legal(old, new):
            raise InvalidTransition(task.id, old, new, why)
        task.state = new
        with self._counts_cond:
            self._counts[old] -= 1
            self._counts[new] += 1
            if new in FINAL_STATES:
                self._live -= 1
                if self._live == 0:
                    self._counts_cond.notify_all()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("task %d: %s -> %s (%s)", task.id, old.name, new.name, why)
        if not self._events.callbacks:
            return None
        return TaskStateChanged(task.id, task.func_name, old, new, time.time(), task.try_id, why)

    def _emit(self, event: TaskStateChanged | None) -> None:
        if event is not None:
            self._events.emit(event)

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

    # -- submission -------------------------------------------------------------------------
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
        label = INTERNAL_EXECUTOR if join else self._choose_executor(executors)
        task = Task(next(self._ids), func_name, func, app_args, app_kwargs, self, label,
                    cache=cache, ignore_for_cache=tuple(ignore_for_cache), join=join,
                    time_invoked=time.time())
        fut = task.future = AppFuture(task)
        if app_kwargs:
            self._read_special_kwargs(task, fut, app_kwargs)
        with self._counts_cond:
            self._counts[States.pending] += 1
            self._live += 1
        self.tasks[task.id] = task
        if self._events.callbacks:
            self._emit(TaskStateChanged(task.id, func_name, States.pending, States.pending,
                                        task.time_invoked, 0, "submitted"))
        deps = _deps.gather(self._resolver, app_args, app_kwargs)
        for name in drop:
            del app_kwargs[name]
        if not deps:
            self._soon(self._launch_ready, task)
            return fut
        task.depends = deps
        task.waiting = len(deps) + 1  # +1 until every callback is registered
        for dep in deps:
            dep.add_done_callback(partial(self._dep_done_cb, task))
        self._dep_done(task)
        return fut

    def _choose_executor(self, executors: str | Sequence[str]) -> str:
        if executors == "all":
            labels = self._user_labels
            return labels[0] if len(labels) == 1 else random.choice(labels)
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

    def _auto_logname(self, task: Task, stream: str, label: object) -> Any:
        if self.config.std_autopath is not None:
            return self.config.std_autopath(task, stream)
        suffix = f"_{label}" if label else ""
        return (f"{self.run_dir}/task_logs/{task.id // 10000:04d}/"
                f"task_{task.id:04d}_{task.func_name}{suffix}.{stream}")

    def _dep_done_cb(self, task: Task, _: Future[Any]) -> None:
        self._dep_done(task)

    def _dep_done(self, task: Task) -> None:
        with self._stripe(task):
            task.waiting -= 1
            if task.waiting:
                return
        self._soon(self._launch_ready, task)

    # -- launch -----------------------------------------------------------------------------
    def _launch_ready(self, task: Task) -> None:
        """All dependencies are done: fail the task if one failed, else hand it over."""
        if task.state is not States.pending:  # cancelled while waiting
            return
        if task.depends:
            failed = [(self._dep_exception(d), describe_future(d))
                      for d in task.depends if d.cancelled() or d.exception() is not None]
            if failed:
                task.depends = None
                self._finish(task, States.dep_fail, None,
                             DependencyError(failed, task.id, task.func_name),
                             "dependency failed")
                return
            assert task.args is not None and task.kwargs is not None
            task.args, task.kwargs = _deps.unwrap(self._resolver, task.args, task.kwargs)
            task.depends = None
        self._launch(task)

    @staticmethod
    def _dep_exception(dep: Future[Any]) -> BaseException:
        if not dep.cancelled():
            exc = dep.exception()
            assert exc is not None
            return exc
        if isinstance(dep, AppFuture):
            return TaskCancelled(dep.task.id, dep.task.func_name)
        return TaskCancelled(-1, repr(dep))

    def _launch(self, task: Task) -> None:
        memo = self.memoizer
        if task.cache and memo is not None and memo.memoize and self._memo_hit(task):
            return
        with self._stripe(task):
            if task.state is not States.pending:  # cancelled meanwhile
                return
            event = self._move(task, States.launched, f"to executor {task.executor}")
            task.tries.append(TryRecord(task.try_id, task.executor, time.time()))
        self._emit(event)
        executor = self.executors.get(task.executor)
        args, kwargs = task.args or (), task.kwargs or {}
        if not self.config.retries and not (self.config.infrastructure_retries and
                                            getattr(executor, "tasks_can_be_lost", True)):
            task.args = task.kwargs = None  # never needed again: free large arguments now
        try:
            if executor is None:
                raise ConfigurationError(
                    f"{task.describe()} asked for executor {task.executor!r}, but this "
                    f"config has only {', '.join(map(repr, self._user_labels))}: fix the "
                    "app's executors=[...] list")
            exec_fu = executor.submit(task.func, task.resource_specification, *args, **kwargs)
        except Exception as exc:
            failed: Future[Any] = Future()
            failed.set_exception(exc)
            exec_fu = failed
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
        if exec_fu.cancelled():
            self._finish(task, States.cancelled, None,
                         TaskCancelled(task.id, task.func_name), "cancelled in executor")
            return
        exc = exec_fu.exception()
        record = task.tries[-1]
        record.time_returned = time.time()
        if exc is None:
            result = exec_fu.result()
            if task.join:
                self._start_join(task, result)
            else:
                self._finish(task, States.exec_done, result, None, "done")
        else:
            record.exception = exc
            self._try_failed(task, exc)

    def _try_failed(self, task: Task, exc: BaseException) -> None:
        cfg = self.config
        decision = decide_retry(task, exc, cfg.retries, cfg.infrastructure_retries,
                                cfg.retry_handler, cfg.retry_backoff)
        if not decision.retry:
            self._finish(task, States.failed, None, decision.exception, "failed")
            return
        with self._stripe(task):
            if task.state in FINAL_STATES:  # cancelled while running
                return
            events = [self._move(task, States.fail_retryable, repr(exc))]
            task.try_id += 1
            events.append(self._move(task, States.pending, f"retry {task.try_id}"))
        for event in events:
            self._emit(event)
        if decision.delay > 0:
            self._delayer.call_later(decision.delay,
                                     lambda: self._soon(self._launch, task))
        else:
            self._soon(self._launch, task)

    def _start_join(self, task: Task, inner: Any) -> None:
        if isinstance(inner, Future):
            joins = [inner]
        elif isinstance(inner, list) and all(isinstance(f, Future) for f in inner):
            joins = inner
        else:
            self._try_failed(task, TypeError(
                f"join_app {task.func_name} must return a Future or a list of Futures, "
                f"not {type(inner).__name__}: call other apps inside it and return their "
                "futures"))
            return
        with self._stripe(task):
            if task.state is not States.launched:
                return
            event = self._move(task, States.joining, f"waiting for {len(joins)} futures")
            task.joins, task.waiting = joins, len(joins) + 1
            task.args = inner  # remembers whether one future or a list was returned
        self._emit(event)
        for f in joins:
            f.add_done_callback(partial(self._join_done_cb, task))
        self._join_done(task)

    def _join_done_cb(self, task: Task, _: Future[Any]) -> None:
        self._join_done(task)

    def _join_done(self, task: Task) -> None:
        with self._stripe(task):
            task.waiting -= 1
            if task.waiting:
                return
        joins = task.joins or []
        failed = [(self._dep_exception(f), describe_future(f))
                  for f in joins if f.cancelled() or f.exception() is not None]
        if failed:
            self._finish(task, States.failed, None,
                         JoinError(failed, task.id, task.func_name), "joined future failed")
        elif isinstance(task.args, Future):
            self._finish(task, States.exec_done, joins[0].result(), None, "joined")
        else:
            self._finish(task, States.exec_done, [f.result() for f in joins], None, "joined")

    def _finish(self, task: Task, state: States, result: Any, exc: BaseException | None,
                why: str) -> None:
        """Move ``task`` to a final state and complete its future, releasing the lock first."""
        with self._stripe(task):
            if task.state in FINAL_STATES:
                return
            event = self._move(task, state, why)
            fut, task.future = task.future, None  # break the cycle: the future keeps the task
        task.time_returned = time.time()
        task.args = task.kwargs = task.depends = None
        if task.hashsum is not None and self.memoizer is not None:
            self._record_memo(task, state, result, exc)
        if self.config.garbage_collect:
            self.tasks.pop(task.id, None)
        self._emit(event)
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

    # -- user operations --------------------------------------------------------------------
    def cancel_task(self, task: Task) -> bool:
        """Cancel ``task`` if it has not started running; see ``AppFuture.cancel``."""
        with self._stripe(task):
            state, exec_fu = task.state, task.exec_future
        if state is States.launched and exec_fu is not None:
            return exec_fu.cancel()  # _exec_done then moves the task to cancelled
        if state is not States.pending:
            return state is States.cancelled
        self._finish(task, States.cancelled, None, None, "cancelled by the user")
        return task.state is States.cancelled

    def submit_lifted(self, op: Callable[[Any, Any], Any], fut: AppFuture, key: Any) -> AppFuture:
        """A task applying ``op(result_of_fut, key)`` on the internal executor."""
        return self.submit(op, (fut, key), {}, func_name=getattr(op, "__name__", "lifted"),
                           executors=[INTERNAL_EXECUTOR])

    def checkpoint(self) -> int:
        """Write the checkpoint records of tasks finished since the last one; return how many
        (for ``checkpoint_mode='manual'``; other modes write on their own)."""
        return self.memoizer.checkpoint() if self.memoizer is not None else 0

    def wait_for_current_tasks(self, timeout: float | None = None) -> None:
        """Block until every task submitted so far has reached a final state."""
        with self._counts_cond:
            if not self._counts_cond.wait_for(lambda: self._live == 0, timeout):
                raise TimeoutError(f"{self._live} tasks still running after {timeout} s")

    def cleanup(self, wait: bool = True) -> None:
        """Stop scaling, shut down every executor and release the run's resources.

        Idempotent. Tasks that have not started are cancelled (their futures say so);
        with ``wait=True`` running tasks finish first, with ``wait=False`` (an interrupted
        script) executors are stopped at once.
        """
        if self.cleanup_called:
            return
        self.cleanup_called = True
        log.info("cleaning up; task states: %s", {s.name: n for s, n in
                                                   self.task_state_counts.items() if n})
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


def _version() -> str:
    from plait._version import __version__

    return __version__

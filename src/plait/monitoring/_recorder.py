"""The script's side of monitoring: kernel events → records → a pipe to the database process.

    kernel threads ──TaskStateChanged──▶ Recorder ──append──▶ deque ──▶ Sender thread
    executors (resource samples, nodes, blocks) ──extend──▶ deque        │ marshal frames
                                                                          ▼
                                            database process stdin (see _dbproc)

The Recorder runs in the kernel's threads, so it only reads a few fields and appends a
tuple: no lock, no I/O, no formatting. The Sender wakes when the deque stops being empty,
lets ``HOLD_S`` of records gather, and writes them as one frame. If the database process
dies, the Sender says so once and the Recorder unsubscribes: the run goes on at full speed.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from plait.dataflow._events import TaskStateChanged
from plait.dataflow._futures import AppFuture
from plait.dataflow._states import States
from plait.dataflow._summary import AppCounts
from plait.monitoring import _records as R

if TYPE_CHECKING:
    from plait.dataflow._task import Task

log = logging.getLogger("plait.monitoring")

HOLD_S = 0.02  # how long records may wait to leave together: the crash window of a kill -9
MAX_FRAME = 20_000  # records per frame
MAX_BACKLOG = 2_000_000  # records queued behind a stuck database process before dropping
_TB_MAX, _MSG_MAX = 16_000, 2_000

_CODE = {state: int(state) for state in States}
_FINAL_OK = frozenset({States.exec_done, States.memo_done})
_FINAL = frozenset({States.exec_done, States.memo_done, States.failed, States.dep_fail,
                    States.cancelled})
_RETRYABLE = States.fail_retryable
_SPECIAL = frozenset({"inputs", "outputs", "stdout", "stderr", "walltime",
                      "parsl_resource_specification"})


class Sender:
    """Owns the deque and the thread that writes it to the database process's stdin."""

    def __init__(self, fd: int, on_dead: Callable[[str], None]) -> None:
        self.queue: deque[tuple[Any, ...]] = deque()
        self.awake = False
        self.dropped = 0
        self.dead = False
        self._fd, self._on_dead = fd, on_dead
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plait-monitoring-sender",
                                        daemon=True)
        self._thread.start()

    def put(self, record: tuple[Any, ...]) -> None:
        self.queue.append(record)
        if not self.awake:
            self.wake()

    def put_many(self, records: list[tuple[Any, ...]]) -> None:
        self.queue.extend(records)
        if not self.awake:
            self.wake()

    def wake(self) -> None:
        self.awake = True
        self._wake.set()

    def _run(self) -> None:
        closing = self._closing
        while True:
            self._wake.wait()  # forever by design: close() sets it
            if not closing.is_set():
                closing.wait(HOLD_S)  # let a batch gather; close() cuts it short
            self._wake.clear()
            self.awake = False
            self._send_all()
            if closing.is_set() and not self.queue:
                break
        try:
            os.close(self._fd)  # end of input: the database process commits and exits
        except OSError:
            pass

    def _send_all(self) -> None:
        queue, popleft = self.queue, self.queue.popleft
        if len(queue) > MAX_BACKLOG:
            self._drop(f"the monitoring database process is {len(queue)} records behind")
        while queue and not self.dead:
            records = [popleft() for _ in range(min(len(queue), MAX_FRAME))]
            frame = memoryview(R.encode(records))
            try:
                while frame:
                    frame = frame[os.write(self._fd, frame):]
            except OSError as exc:
                self.dead = True
                self._on_dead(f"writing to it failed ({exc})")
        if self.dead:
            self.dropped += len(queue)
            queue.clear()

    def _drop(self, why: str) -> None:
        n = len(self.queue)
        self.queue.clear()
        if not self.dropped:
            log.warning("%s: dropping %d records; the run goes on, its monitoring "
                        "database is incomplete", why, n)
        self.dropped += n

    def close(self, timeout: float) -> bool:
        """Send what is queued, then end the input; False if that took over ``timeout``."""
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()


class Recorder:
    """The kernel subscriber: one record per event, read from the task record; it also
    keeps the per-app counts of ``dfk.task_summary()`` (inline: one callback, not two)."""

    def __init__(self, tasks: dict[int, Task], sender: Sender) -> None:
        self._tasks = tasks
        self._live: dict[int, AppFuture] = {}
        self._sender = sender
        self._append = sender.queue.append
        self.counter = AppCounts()
        self._counts = self.counter.counts

    def __call__(self, ev: TaskStateChanged) -> None:
        new, old = ev.new, ev.old
        counts = self._counts.get(ev.func_name)
        if counts is None:
            counts = self.counter.new_app(ev.func_name)
        counts[new] += 1
        if new in _FINAL:
            counts[old] -= 1
            self._final(ev)
        elif old is new:
            self._submitted(ev)
        else:
            counts[old] -= 1
            self._append((R.STATE, ev.task_id, _CODE[new], ev.time, ev.try_id))
            if new is _RETRYABLE:
                self._try_failed(ev)
        if not self._sender.awake:
            self._sender.wake()

    def resources(self, samples: Sequence[tuple[Future[Any], tuple[Any, ...]]]) -> None:
        """Samples from an executor, each with the executor future of the task it measured
        (see ``plait._sampling`` for the layout after the executor's task id)."""
        by_future = {id(t.exec_future): t for t in (f.task for f in list(self._live.values()))
                     if t.exec_future is not None}
        for fut, sample in samples:
            task = by_future.get(id(fut))
            if task is not None:
                self._append((R.RESOURCE, task.id, task.try_id, *sample))
        if samples and not self._sender.awake:
            self._sender.wake()

    def _submitted(self, ev: TaskStateChanged) -> None:
        task = self._tasks.get(ev.task_id)
        if task is None or not isinstance(task.future, AppFuture):
            return
        self._live[task.id] = task.future
        kwargs = task.kwargs
        inputs = outputs = stdout = stderr = walltime = None
        if kwargs:
            walltime = kwargs.get("walltime")
            if not isinstance(walltime, (int, float)):
                walltime = None
            inputs = _files(kwargs.get("inputs"))
            outputs = _files(kwargs.get("outputs"))
            stdout, stderr = _stream(task.stdout), _stream(task.stderr)
        depends = None
        if task.depends:
            depends = ",".join(str(t) for t in (getattr(d, "tid", None) for d in task.depends)
                               if t is not None)
        self._append((R.TASK, task.id, task.func_name, task.time_invoked, task.executor,
                      task.cache, depends, stdout, stderr, inputs, outputs,
                      summarize(task.args, kwargs), walltime))

    def _final(self, ev: TaskStateChanged) -> None:
        fut = self._live.pop(ev.task_id, None)
        if fut is None:
            self._append((R.FINAL, ev.task_id, _CODE[ev.new], ev.time, ev.try_id, 0, 0.0,
                          None, None))
            return
        task = fut.task
        joins = None
        if task.joins is not None:  # a join app's body returned a future or a list of them
            inner = task.joins if isinstance(task.joins, list) else [task.joins]
            joins = ",".join(str(getattr(j, "tid", "?")) for j in inner)
        self._append((R.FINAL, ev.task_id, _CODE[ev.new], ev.time, ev.try_id,
                      task.fail_count, float(task.fail_cost), task.hashsum, joins))
        if ev.new not in _FINAL_OK:  # the exception is set on the future right after
            fut.add_done_callback(self._task_failed)

    def _try_failed(self, ev: TaskStateChanged) -> None:
        fut = self._live.get(ev.task_id)
        tries = fut.task.failed_tries if fut is not None else None
        if tries and tries[-1].try_id == ev.try_id and tries[-1].exception is not None:
            self._append(failure_record(ev.task_id, ev.try_id, ev.time, tries[-1].exception,
                                        None))

    def _task_failed(self, fut: Future[Any]) -> None:
        task = fut.task  # type: ignore[attr-defined]
        when = task.time_returned or 0.0
        if fut.cancelled():
            self._append((R.FAILURE, task.id, task.try_id, when, "TaskCancelled",
                          "the task was cancelled", None, None))
        else:
            exc = fut.exception()
            root = task.blocked_by[0] if task.blocked_by else None
            if exc is not None:
                self._append(failure_record(task.id, task.try_id, when, exc, root))
        if not self._sender.awake:
            self._sender.wake()


def failure_record(task_id: int, try_id: int, when: float, exc: BaseException,
                   root: int | None) -> tuple[Any, ...]:
    """A FAILURE record: the exception's type, message and traceback (with its causes)."""
    kind = type(exc)
    name = kind.__name__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")
    try:
        message = str(exc)[:_MSG_MAX]
    except Exception:  # a user exception whose __str__ fails
        message = repr(exc)[:_MSG_MAX]
    from plait._errors import PropagatedException

    if isinstance(exc, PropagatedException):
        tb = None  # its message names the failed dependencies; their tracebacks are theirs
    else:
        text = "".join(traceback.format_exception(kind, exc, exc.__traceback__))
        tb = text if len(text) <= _TB_MAX else text[:_TB_MAX // 4] + "\n...\n" + text[
            -_TB_MAX * 3 // 4:]
    return (R.FAILURE, task_id, try_id, when, name, message, tb, root)


def _stream(value: Any) -> str | None:
    """The path of a stdout/stderr argument: a path, (path, mode), or a File."""
    if value is None:
        return None
    if isinstance(value, tuple) and value:
        value = value[0]
    return str(getattr(value, "filepath", value))


def _files(files: Any) -> str | None:
    if not files:
        return None
    try:  # File, DataFuture (of a File) or a plain path
        return ",".join(str(getattr(getattr(f, "file_obj", f), "url", f)) for f in files)
    except TypeError:
        return str(files)[:1000]


def summarize(args: tuple[Any, ...] | None, kwargs: dict[str, Any] | None) -> str | None:
    """A short, cheap description of a task's arguments: small values shown, others by type
    and size (never a full repr: an argument can be gigabytes)."""
    if not args and not kwargs:
        return None
    parts = [_brief(a) for a in (args or ())[:8]]
    if kwargs:
        parts += [f"{k}={_brief(v)}" for k, v in list(kwargs.items())[:8] if k not in _SPECIAL]
    return ", ".join(parts)[:300] or None


def _brief(value: Any) -> str:
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        return repr(value)
    if kind is str:
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    if kind is AppFuture:
        return f"<task {value.tid}>"
    if kind in (list, tuple, dict, set, frozenset, bytes, bytearray):
        return f"{kind.__name__}[{len(value)}]"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return f"{kind.__name__}{shape}"
    return kind.__name__

"""The script's side of monitoring: kernel events → records → a pipe to the database process.

    kernel threads ──TaskStateChanged──▶ Recorder ──append──▶ deque ──▶ Sender thread
    executors (resource samples, nodes, blocks) ──extend──▶ deque        │ marshal frames
                                                                          ▼
                                            database process stdin (see _dbproc)

The Recorder runs in the kernel's threads, so it only reads a few fields and appends a
tuple: no lock, no I/O, no formatting. The Sender wakes when the deque stops being empty,
lets ``HOLD_S`` of records gather, and writes them as one frame. If the database process
dies, the Sender says so once and the Recorder unsubscribes: the run goes on at full speed.
If it stalls (a hung database, a stopped process), the pipe fills; the Sender's writes do
not block, so it keeps watching the backlog and drops it past ``MAX_BACKLOG`` records: the
script's memory stays bounded and the run goes on.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
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
PIPE_BYTES = 1 << 20  # the pipe's buffer asked for (a frame of no-op tasks: ~40 B a record)
MAX_BACKLOG = 2_000_000  # records queued behind a stuck database process before dropping
STALL_CHECK_S = 0.5  # while the pipe is full: how often the backlog is looked at
_TB_MAX, _MSG_MAX = 16_000, 2_000

_CODE = {state: int(state) for state in States}
_TASK, _STATE, _FINAL_RECORD = R.TASK, R.STATE, R.FINAL
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
        os.set_blocking(fd, False)  # a full pipe must not stop the Sender watching the backlog
        _widen(fd)
        self.last_progress = time.monotonic()  # when the pipe last took bytes
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
        while queue and not self.dead:
            self._bound_backlog()
            records = [popleft() for _ in range(min(len(queue), MAX_FRAME))]
            try:
                self._write(memoryview(R.encode(records)))
            except OSError as exc:
                self.dead = True
                self._on_dead(f"writing to it failed ({exc})")
        if self.dead:
            self.dropped += len(queue)
            queue.clear()

    def _write(self, frame: memoryview) -> None:
        """Write one whole frame (a frame is never cut); while the pipe is full, wait for it
        in short steps and keep the backlog bounded meanwhile."""
        fd = self._fd
        while frame:
            try:
                frame = frame[os.write(fd, frame):]
                self.last_progress = time.monotonic()
            except BlockingIOError:
                select.select([], [fd], [], STALL_CHECK_S)
                self._bound_backlog()

    def _bound_backlog(self) -> None:
        if len(self.queue) > MAX_BACKLOG:
            self._drop(f"the monitoring database process is {len(self.queue)} records "
                       "behind (stalled?)")

    def _drop(self, why: str) -> None:
        n = len(self.queue)
        self.queue.clear()
        if not self.dropped:
            log.warning("%s: dropping %d records; the run goes on, its monitoring "
                        "database is incomplete", why, n)
        self.dropped += n

    def close(self, stall: float) -> bool:
        """Send what is queued, then end the input; False if the pipe took nothing for
        ``stall`` seconds (the database process is stuck: the caller stops it)."""
        self._closing.set()
        self._wake.set()
        self.last_progress = time.monotonic()
        while True:
            self._thread.join(min(1.0, stall))
            if not self._thread.is_alive():
                return True
            if time.monotonic() - self.last_progress > stall:
                return False


def _widen(fd: int) -> None:
    """Give the pipe room for a whole frame (Linux: up to ``pipe-max-size``, 1 MiB by
    default, instead of 64 KiB): a frame then goes in one write, not a write per 64 KiB each
    waiting for the database process to read, and taking the GIL back each time."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or a lower limit: keep it
        pass


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
        self.live_retry: Any = None  # a LiveRetry when the hub has live_retry=True

    def on_event(self, ev: TaskStateChanged) -> None:
        """The kernel's subscriber (a bound method: half the call cost of an instance)."""
        # The hot path (three calls per task): one unpack, locals, no attribute chains.
        task_id, func_name, old, new, when, try_id, _ = ev
        counts = self._counts.get(func_name)
        if counts is None:
            counts = self.counter.new_app(func_name)
        counts[new] += 1
        if new in _FINAL:
            counts[old] -= 1
            self._final(task_id, new, when, try_id)
        elif old is new:
            self._submitted(task_id)
        else:
            counts[old] -= 1
            self._append((_STATE, task_id, _CODE[new], when, try_id))
            if new is _RETRYABLE:
                self._try_failed(task_id, try_id, when)
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

    def _submitted(self, task_id: int) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        fut = task.future
        if not isinstance(fut, AppFuture):
            return
        self._live[task_id] = fut
        if self.live_retry is not None:
            self.live_retry.submitted(task, fut)
        kwargs, args = task.kwargs, task.args
        inputs = outputs = stdout = stderr = walltime = summary = None
        if kwargs:
            walltime = kwargs.get("walltime")
            if not isinstance(walltime, (int, float)):
                walltime = None
            inputs = _files(kwargs.get("inputs"))
            outputs = _files(kwargs.get("outputs"))
            stdout, stderr = _stream(task.stdout), _stream(task.stderr)
            summary = summarize(args, kwargs)
        elif args:
            summary = summarize(args, kwargs)
        depends = None
        if task.depends:
            depends = ",".join(str(t) for t in (getattr(d, "tid", None) for d in task.depends)
                               if t is not None)
        self._append((_TASK, task_id, task.func_name, task.time_invoked, task.executor,
                      task.cache, depends, stdout, stderr, inputs, outputs, summary, walltime))

    def _final(self, task_id: int, new: States, when: float, try_id: int) -> None:
        fut = self._live.pop(task_id, None)
        if fut is None:
            self._append((_FINAL_RECORD, task_id, _CODE[new], when, try_id, 0, 0.0, None,
                          None))
            return
        task = fut.task
        joins = None
        if task.joins is not None:  # a join app's body returned a future or a list of them
            inner = task.joins if isinstance(task.joins, list) else [task.joins]
            joins = ",".join(str(getattr(j, "tid", "?")) for j in inner)
        self._append((_FINAL_RECORD, task_id, _CODE[new], when, try_id, task.fail_count,
                      float(task.fail_cost), task.hashsum, joins))
        if new not in _FINAL_OK:  # the exception is set on the future right after
            fut.add_done_callback(self._task_failed)
        elif self.live_retry is not None:
            self.live_retry.succeeded(task_id)

    def _try_failed(self, task_id: int, try_id: int, when: float) -> None:
        fut = self._live.get(task_id)
        tries = fut.task.failed_tries if fut is not None else None
        if tries and tries[-1].try_id == try_id and tries[-1].exception is not None:
            self._append(failure_record(task_id, try_id, when, tries[-1].exception, None))

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

"""ThreadPoolExecutor: runs tasks on threads of the submitting process.

    kernel ──submit──▶ SimpleQueue of work items ──▶ worker threads 0..N-1 ──▶ future

Workers are started with the executor and end when they read the stop marker. They are
daemon threads so that an interrupted script can exit while a task is still running.

submit() takes no lock (it is every task's path). A submit racing shutdown() may queue its
task behind the stop markers, where no worker will take it; such a task is cancelled, never
left: by the last worker to stop, or by the submit itself if it finds every worker gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

from plait._lightfuture import LightFuture
from plait._validate import check_bool, check_int, check_list, check_radio, check_str
from plait.executors._base import Executor
from plait.executors._errors import BadStateException, InvalidResourceSpecification

log = logging.getLogger(__name__)

_Item = tuple[LightFuture[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_STOP = None


class ThreadPoolExecutor(Executor):
    """Run tasks on a pool of threads in this process (Parsl's ``ThreadPoolExecutor``).

    Args:
        label: the name apps use in ``executors=[...]``.
        max_threads: how many tasks run at once.
        thread_name_prefix: prefix of the worker thread names
            (default ``"ThreadPoolExecutor-<label>"``).
        storage_access: staging providers for files (None: ``default_staging``).
        working_dir: working directory for staged files.
        sandbox: give each task a fresh directory under ``working_dir`` for its in-task
            staged files, removed on success and kept on failure. Threads share one
            process, so the process never changes directory: bash apps start in the
            sandbox, Python apps see absolute paths (plait addition).
        remote_monitoring_radio: accepted for compatibility; threads report in-process.
    """

    def __init__(
        self, label: str = "threads", max_threads: int | None = 2,
        thread_name_prefix: str | None = None, storage_access: list[Any] | None = None,
        working_dir: str | None = None, remote_monitoring_radio: object = None,
        sandbox: bool = False,
    ) -> None:
        owner = "ThreadPoolExecutor"
        check_str("label", label, owner=owner)
        if max_threads is None:
            max_threads = 2
        check_int("max_threads", max_threads, low=1, owner=owner)
        for field, value in (("thread_name_prefix", thread_name_prefix),
                             ("working_dir", working_dir)):
            check_str(field, value, none=True, owner=owner)
        check_list("storage_access", storage_access, "a list of staging providers", none=True,
                   owner=owner, item_methods=("can_stage_in", "can_stage_out"))
        check_radio(remote_monitoring_radio, owner)
        self.label = label
        self.max_threads = max_threads
        self.thread_name_prefix = thread_name_prefix or f"ThreadPoolExecutor-{label}"
        self.storage_access = storage_access
        self.working_dir = working_dir
        check_bool("sandbox", sandbox, owner=owner)
        self.sandbox = sandbox
        self.remote_monitoring_radio = remote_monitoring_radio
        self._queue: SimpleQueue[_Item | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut_down = False
        self._workers_left = 0  # started and not yet stopped

    tasks_can_be_lost = False

    def __repr__(self) -> str:
        return f"ThreadPoolExecutor(label={self.label!r}, max_threads={self.max_threads})"

    def start(self) -> None:
        with self._lock:
            if self._threads or self._shut_down:
                return
            for i in range(self.max_threads):
                t = threading.Thread(target=self._work, name=f"{self.thread_name_prefix}_{i}",
                                     daemon=True)
                t.start()
                self._threads.append(t)
            self._workers_left = len(self._threads)

    def submit(
        self, func: Callable[..., Any], resource_specification: dict[str, Any],
        *args: Any, **kwargs: Any,
    ) -> Future[Any]:
        if resource_specification:
            raise InvalidResourceSpecification(
                list(resource_specification),
                "ThreadPoolExecutor accepts no resource specification; run the task on a "
                "HighThroughputExecutor, or drop parsl_resource_specification")
        if self._shut_down:
            raise BadStateException(self, "it has been shut down; load a new config")
        if not self._threads:
            self.start()
        fut: LightFuture[Any] = LightFuture()
        self._queue.put((fut, func, args, kwargs))
        if self._shut_down and not self._workers_left:  # raced shutdown(), every worker gone:
            self._cancel_queued()  # nobody else will see the task (see the module docstring)
        return fut

    def _work(self) -> None:
        get = self._queue.get
        while True:
            item = get()  # waits forever by design: shutdown() always sends the stop marker
            if item is _STOP:
                with self._lock:
                    self._workers_left -= 1
                    last = not self._workers_left
                if last:  # what is still queued came after the stop markers
                    self._cancel_queued()
                return
            self._run(*item)
            del item  # drop the task's references before blocking again

    @staticmethod
    def _run(fut: LightFuture[Any], func: Callable[..., Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # the task's own failure goes to its future
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers; with ``wait`` let running and queued tasks finish first."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
            threads = list(self._threads)
        if not wait:
            self._cancel_queued()
        for _ in threads:
            self._queue.put(_STOP)
        if wait:
            for t in threads:
                if t is not threading.current_thread():
                    t.join()

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except Exception:  # queue.Empty
                return
            if item is not _STOP:
                fut = item[0]
                fut.cancel()
                # as a worker would on taking it: concurrent.futures.wait() counts only
                # notified cancellations as done
                fut.set_running_or_notify_cancel()

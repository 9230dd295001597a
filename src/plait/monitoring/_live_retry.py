"""Retrying a failed task of a live run, and what depended on it, from outside the script.

    dashboard ──POST retry──▶ Unix socket <run_dir>/control.sock ──▶ ControlServer thread
        ──▶ LiveRetry.retry(task_id) ──▶ dfk.submit(...) for the task, then its dependents

Only with ``MonitoringHub(live_retry=True)``: the recorder then keeps each task's function and
arguments until it ends (not only until it is launched), and those of failed tasks until
the run ends. A re-submitted task is a new task (a new id, a new future): the dependents get
the new futures in place of the failed ones, so they run once the task succeeds.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait.dataflow._futures import AppFuture

if TYPE_CHECKING:
    from plait.dataflow._task import Task

log = logging.getLogger("plait.monitoring")
# special keyword arguments the app layer drops when the function does not take them
_DROPPABLE = ("inputs", "outputs", "stdout", "stderr", "parsl_resource_specification")


@dataclass(slots=True)
class Call:
    """How a task was submitted."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    func_name: str
    executor: str
    cache: bool
    ignore_for_cache: tuple[str, ...]
    join: bool
    depends: tuple[int, ...]
    future: AppFuture


class RetryRefused(Exception):
    """The task cannot be retried (not failed, unknown, or the run is ending)."""


class LiveRetry:
    """The calls of a run's tasks, and re-submitting failed ones with their dependents."""

    def __init__(self, submit: Callable[..., AppFuture]) -> None:
        self._submit = submit
        self._calls: dict[int, Call] = {}
        self._lock = threading.Lock()

    def submitted(self, task: Task, fut: AppFuture) -> None:
        depends = tuple(t for t in (getattr(d, "tid", None) for d in task.depends or ())
                        if isinstance(t, int))
        call = Call(task.func, tuple(task.args or ()), dict(task.kwargs or {}),
                    task.func_name, task.executor, task.cache, tuple(task.ignore_for_cache),
                    task.join, depends, fut)
        with self._lock:
            self._calls[task.id] = call

    def succeeded(self, task_id: int) -> None:
        with self._lock:
            self._calls.pop(task_id, None)

    def retry(self, task_id: int) -> list[int]:
        """Submit ``task_id`` again and then every failed task that depended on it
        (directly or not); return the new task ids, in submission order."""
        with self._lock:
            calls = dict(self._calls)
        root = calls.get(task_id)
        if root is None:
            raise RetryRefused(f"task {task_id} is not a failed task of this run (or "
                               "succeeded): nothing to retry")
        if not _failed(root.future):
            raise RetryRefused(f"task {task_id} has not failed (yet)")
        causes = _causes(task_id, calls)
        if causes != [task_id]:
            shown = ", ".join(map(str, causes))
            raise RetryRefused(f"task {task_id} did not run because task(s) {shown} failed: "
                               "retry those; what they blocked runs again with them")
        order = [task_id, *_failed_dependents(task_id, calls)]
        new: dict[int, AppFuture] = {}
        for tid in order:
            call = calls[tid]

            def swap(value: Any) -> Any:
                if isinstance(value, AppFuture) and value.tid in new:
                    return new[value.tid]
                return value

            kwargs = {k: swap(v) for k, v in call.kwargs.items()}
            if isinstance(kwargs.get("inputs"), (list, tuple)):
                kwargs["inputs"] = [swap(v) for v in kwargs["inputs"]]
            new[tid] = self._submit(
                call.func, tuple(swap(a) for a in call.args), kwargs,
                func_name=call.func_name, executors=[call.executor], cache=call.cache,
                ignore_for_cache=call.ignore_for_cache, join=call.join,
                drop=_dropped(call.func, kwargs))
            log.info("task %d (%s) re-submitted as task %d", tid, call.func_name,
                     new[tid].tid)
        return [new[t].tid for t in order]


def _failed(fut: AppFuture) -> bool:
    return fut.done() and (fut.cancelled() or fut.exception() is not None)


def _causes(task_id: int, calls: dict[int, Call]) -> list[int]:
    """The failed tasks at the root of ``task_id``'s failure (itself if it ran and failed)."""
    from plait._errors import PropagatedException

    found: list[int] = []
    todo, seen = [task_id], set()
    while todo:
        tid = todo.pop()
        call = calls.get(tid)
        if tid in seen or call is None:
            continue
        seen.add(tid)
        exc = None if call.future.cancelled() else call.future.exception()
        if isinstance(exc, PropagatedException):
            todo.extend(d for d in call.depends if d in calls)
        else:
            found.append(tid)
    return sorted(found)


def _failed_dependents(root: int, calls: dict[int, Call]) -> list[int]:
    """Ids of the failed calls that depend on ``root`` through other failed calls."""
    bad = {root}
    out = []
    for tid in sorted(calls):  # dependencies always have lower ids
        call = calls[tid]
        if tid != root and any(d in bad for d in call.depends) and _failed(call.future):
            bad.add(tid)
            out.append(tid)
    return out


def _dropped(func: Callable[..., Any], kwargs: dict[str, Any]) -> list[str]:
    """The special keyword arguments ``func`` does not take (the app layer's rule)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    return [k for k in _DROPPABLE if k in kwargs and k not in params]


class ControlServer:
    """A Unix socket in the run directory answering one JSON request per connection:
    ``{"retry": task_id}`` → ``{"ok": true, "tasks": [...]}`` or ``{"ok": false, "error"}``."""

    def __init__(self, path: str, retry: LiveRetry) -> None:
        self.path, self._retry = path, retry
        if os.path.exists(path):
            os.unlink(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        os.chmod(path, 0o600)  # only the run's user may re-submit its tasks
        self._sock.listen(8)
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="plait-monitoring-control",
                                        daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self._sock, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            conn, _ = self._sock.accept()
            with conn:
                conn.settimeout(10)
                try:
                    request = json.loads(conn.makefile("r").readline())
                    answer = {"ok": True, "tasks": self._retry.retry(int(request["retry"]))}
                except RetryRefused as exc:
                    answer = {"ok": False, "error": str(exc)}
                except Exception as exc:  # a bad request, or submit refused it
                    log.exception("control request failed")
                    answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                try:
                    conn.sendall(json.dumps(answer).encode() + b"\n")
                except OSError:
                    pass

    def stop(self) -> None:
        self._wake_w.send(b"x")
        self._thread.join(10)
        for s in (self._sock, self._wake_r, self._wake_w):
            s.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def request_retry(path: str, task_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the live run listening at ``path`` to retry ``task_id``; its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps({"retry": task_id}).encode() + b"\n")
        answer: dict[str, Any] = json.loads(sock.makefile("r").readline())
        return answer

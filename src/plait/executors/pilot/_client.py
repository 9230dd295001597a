"""The executor's end of the interchange: its process, its two sockets and the result thread.

    submit() ──(lock) outbox + wake-up pipe──▶ I/O thread ──tasks DEALER──▶ interchange
    I/O thread ◀── results DEALER ◀── interchange
    the I/O thread waits on: results socket, the interchange's death descriptor, wake-up pipe

Submitting threads append to an outbox and wake the I/O thread when the outbox was empty, so
tasks submitted in a burst leave as one multipart message; a lone task is sent directly. Every
use of the tasks socket happens under ``lock``.

The interchange is a fresh interpreter in its own session (so a terminal's Ctrl-C reaches the
script, whose shutdown then stops it). Its stdin stays open as a lifeline: when this process
dies, the interchange reads EOF and exits.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from plait._lightfuture import LightFuture
from plait.executors._errors import InterchangeLost
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._sockets import BATCH, drain, new_socket, tcp_url
from plait.executors.pilot._spawn import Child

log = logging.getLogger(__name__)
_CONNECT_GRACE = 5.0  # seconds a live interchange may take to accept the tasks socket


class InterchangeClient:
    """Starts the interchange and carries messages to and from it."""

    def __init__(self, label: str, logdir: str, loopback: str, port_range: tuple[int, int],
                 cert_dir: str | None, launch_cmd: list[str] | None,
                 on_message: Callable[[bytes, list[zmq.Frame]], None],
                 on_lost: Callable[[BaseException], None]) -> None:
        self.label, self.logdir, self.loopback = label, logdir, loopback
        self.port_range, self.cert_dir = port_range, cert_dir
        self.launch_cmd = launch_cmd or [sys.executable, "-m",
                                         "plait.executors.pilot._interchange"]
        self.on_message, self.on_lost = on_message, on_lost
        self.ctx = zmq.Context()
        self.lock = threading.Lock()  # guards the outbox: submit may run on any thread
        self._out_funcs: list[list[Any]] = []
        self._out_metas: list[tuple[Any, ...]] = []
        self._out_frames: list[Any] = []
        self._out_other: list[list[Any]] = []
        self._stopping = False
        self._last_direct = 0.0
        self.child: Child | None = None
        self.started = LightFuture[dict[str, Any]]()
        self._replies: dict[int, LightFuture[Any]] = {}
        self._req = itertools.count(1)
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def log_path(self) -> str:
        return os.path.join(self.logdir, "interchange.log")

    def _bind(self) -> tuple[zmq.Socket[Any], zmq.Socket[Any], int, int]:
        host = self.loopback
        url = tcp_url(host)
        socks, ports = [], []
        for _ in range(2):
            sock = new_socket(self.ctx, zmq.DEALER, ":" in host)
            if self.cert_dir:
                from plait.executors.pilot._curve import make_server

                make_server(sock, self.cert_dir)
            lo, hi = self.port_range
            ports.append(sock.bind_to_random_port(url, min_port=lo, max_port=hi, max_tries=200))
            socks.append(sock)
        return socks[0], socks[1], ports[0], ports[1]

    def start(self, cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Start the interchange with ``cfg``; returns its STARTED info or raises why not."""
        self.tasks, self.results, task_port, result_port = self._bind()
        cfg = {**cfg, "task_port": task_port, "result_port": result_port,
               "loopback_address": self.loopback, "logdir": self.logdir,
               "cert_dir": self.cert_dir}
        os.makedirs(self.logdir, exist_ok=True)
        with open(os.path.join(self.logdir, "interchange.stderr"), "ab") as err:
            self.child = Child(self.launch_cmd, stdin=subprocess.PIPE, stdout=err, stderr=err,
                               start_new_session=True)
        assert self.child.popen.stdin is not None
        self.child.popen.stdin.write(pickle.dumps(cfg))
        self.child.popen.stdin.flush()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"plait-htex-{self.label}-results")
        self._thread.start()
        return self.started.result(timeout=timeout)

    def stderr_tail(self, limit: int = 2048) -> str:
        path = os.path.join(self.logdir, "interchange.stderr")
        try:
            with open(path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(path) - limit))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    # -- sending (any thread, under self.lock) -------------------------------------------------
    def _outbox_empty(self) -> bool:
        return not (self._out_metas or self._out_other or self._out_funcs)

    def post_task(self, meta: tuple[Any, ...], frames: list[Any],
                  func: list[Any] | None = None, alone: bool = False) -> None:
        """Send or queue one task (and its function body); call with :attr:`lock` held.

        A task submitted alone (``alone``: no other task is outstanding; or none was
        submitted in the last millisecond) is sent at once from this thread: one thread hop
        less on the latency path. A burst goes through the outbox and leaves as one message.
        """
        wake = self._outbox_empty()
        now = time.perf_counter()
        if wake and (alone or now - self._last_direct > 1e-3) and not self._stopping:
            self._last_direct = now
            if func is not None:
                self._send_task_frames(func)
            self._send_task_frames([P.TASKS, P.dumps([meta]), *frames])
            return
        self._last_direct = now
        if func is not None:
            self._out_funcs.append(func)
        self._out_metas.append(meta)
        self._out_frames += frames
        if wake:
            os.write(self._wake_w, b"s")

    def send(self, frames: list[Any]) -> None:
        """Queue one control message; call with :attr:`lock` held."""
        wake = self._outbox_empty()
        self._out_other.append(frames)
        if wake:
            os.write(self._wake_w, b"s")

    def _flush(self) -> None:
        # Sends under the lock: submitting threads may also send on this socket (see above),
        # and a ZeroMQ socket must never be used by two threads at once.
        with self.lock:
            funcs, metas, frames, other = (self._out_funcs, self._out_metas, self._out_frames,
                                           self._out_other)
            self._out_funcs, self._out_metas, self._out_frames, self._out_other = [], [], [], []
            for msg in funcs:
                self._send_task_frames(msg)
            if metas:
                self._send_task_frames([P.TASKS, P.dumps(metas), *frames])
            for msg in other:
                self._send_task_frames(msg)

    def _send_task_frames(self, frames: list[Any]) -> None:
        """Send on the tasks socket (lock held) without ever blocking for long.

        The socket is bound here, so with no interchange connected a plain send would block
        forever, lock held (seen when the interchange dies). While it is still connecting
        (just after start) the send is retried; once its process is dead the message is
        dropped: the death handler fails every outstanding task.
        """
        deadline = time.monotonic() + _CONNECT_GRACE
        while True:
            try:
                P.send(self.tasks, frames, zmq.NOBLOCK)
                return
            except zmq.Again:
                pass
            child = self.child
            if child is None or self._closed or child.exitcode(timeout=0.05) is not None:
                log.warning("the interchange is gone; dropping a message to it (its "
                            "outstanding tasks fail with InterchangeLost)")
                return
            if time.monotonic() > deadline:
                log.error("the interchange has not accepted messages for %s s; giving up",
                          _CONNECT_GRACE)
                self.on_lost(InterchangeLost(None, self.log_path))
                return

    def command(self, name: str, args: Any = None, timeout: float = 10.0) -> Any:
        """Run a command in the interchange and return its reply."""
        fut: LightFuture[Any] = LightFuture()
        with self.lock:
            if self._closed:
                raise RuntimeError("the interchange connection is closed")
            req = next(self._req)
            self._replies[req] = fut
            self.send([P.COMMAND, P.dumps((req, name, args))])
        try:
            return fut.result(timeout=timeout)
        finally:
            self._replies.pop(req, None)

    # -- the result thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        assert self.child is not None
        poller = zmq.Poller()
        poller.register(self.results, zmq.POLLIN)
        poller.register(self.child.fd, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        try:
            while True:
                ready = dict(poller.poll())  # events only: results, death, or wake-up
                if self.results in ready:
                    self._receive()
                if self._wake_r in ready:
                    os.read(self._wake_r, 65536)
                    self._flush()
                    if self._stopping:
                        self._receive()  # deliver what already arrived, then stop
                        return
                if self.child.fd in ready:
                    self._receive()
                    self._interchange_died()
                    return
        except Exception as exc:  # a bug here must not leave futures hanging
            log.exception("the result thread of executor %s failed", self.label)
            self._fail_waiters(exc)
            self.on_lost(exc)

    def _receive(self) -> None:
        drain(self.results, self._on_frames, BATCH * 10)

    def _on_frames(self, frames: list[zmq.Frame]) -> None:
        kind = frames[0].bytes
        if kind == P.COMMAND:
            req, value = P.loads(frames[1])
            fut = self._replies.get(req)
            if fut is not None and not fut.done():
                fut.set_result(value)
        elif kind == P.STARTED:
            if not self.started.done():
                self.started.set_result(P.loads(frames[1]))
        else:
            self.on_message(kind, frames)

    def _interchange_died(self) -> None:
        assert self.child is not None
        code = self.child.exitcode(timeout=2)
        exc = InterchangeLost(code, self.log_path)
        tail = self.stderr_tail()
        if tail:
            log.error("interchange of %s died (%s); stderr:\n%s", self.label, code, tail)
        self._fail_waiters(exc)
        self.on_lost(exc)

    def _fail_waiters(self, exc: BaseException) -> None:
        if not self.started.done():
            self.started.set_exception(exc)
        for fut in list(self._replies.values()):
            if not fut.done():
                fut.set_exception(exc)

    # -- stopping ------------------------------------------------------------------------------
    def stop(self, timeout: float) -> None:
        """Ask the interchange to exit, kill it after ``timeout``, join the thread; idempotent."""
        child = self.child
        if child is not None and child.exitcode() is None and self._thread is not None \
                and self._thread.is_alive():
            try:
                self.command("SHUTDOWN", timeout=min(timeout, 2.0))
            except Exception as exc:
                log.debug("interchange did not confirm shutdown: %s", exc)
        with self.lock:
            self._closed = True
        if child is not None and child.exitcode(timeout=timeout) is None:
            log.warning("interchange did not exit within %s s; killing it", timeout)
            child.kill()
            child.exitcode(timeout=5)
        with self.lock:
            self._stopping = True
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if child is not None:
            if child.popen.stdin is not None:
                try:
                    child.popen.stdin.close()
                except OSError:
                    pass
            child.close()
        self.ctx.destroy(linger=0)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

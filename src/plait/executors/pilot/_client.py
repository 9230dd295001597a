"""The executor's end of the interchange: its process, its two sockets and the I/O thread.

    submit() ──(lock) outbox + wake-up pipe──▶ I/O thread ──tasks DEALER──▶ interchange
    I/O thread ◀── results DEALER ◀── interchange (results, events, replies, heartbeats)
    the I/O thread waits on: results socket, the interchange's death descriptor, wake-up pipe,
    the tasks socket becoming writable (only while a message waits for room), and a deadline
    (the next heartbeat to send, or the interchange's silence reaching the threshold)

Submitting threads append to an outbox and wake the I/O thread when the outbox was empty, so
tasks submitted in a burst leave as one multipart message; a lone task is sent directly. Every
use of the tasks socket happens under ``lock`` and never blocks: a message the socket has no
room for (no interchange connected to it) stays in the outbox, and the I/O thread sends it
once the socket is writable. ``on_lost`` is called only by the I/O thread, with no lock held.

Supervision: the interchange's death wakes the I/O thread through its death descriptor. An
interchange that is alive but unresponsive (stopped, frozen, swapping) is found by heartbeats:
each side sends one every ``heartbeat_period``; when nothing has come from the interchange for
``heartbeat_threshold`` seconds, or it has taken no message for ``_CONNECT_GRACE`` seconds,
the client kills it and reports InterchangeLost naming it, as for a death.

The interchange is a fresh interpreter in its own session (so a terminal's Ctrl-C reaches the
script, whose shutdown then stops it). Its stdin stays open as a lifeline: when this process
dies, the interchange reads EOF and exits.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import socket
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
# Tasks per message at most: the interchange handles one message at a time, and a message of
# a million tasks would keep it from its heartbeats for longer than the threshold.
_CHUNK = 2000
_Message = list[Any]


class InterchangeClient:
    """Starts the interchange and carries messages to and from it."""

    def __init__(self, label: str, logdir: str, loopback: str, port_range: tuple[int, int],
                 cert_dir: str | None, launch_cmd: list[str] | None,
                 on_message: Callable[[bytes, list[zmq.Frame]], None],
                 on_lost: Callable[[BaseException], None], *,
                 heartbeat_period: float = 2.0, heartbeat_threshold: float = 8.0) -> None:
        self.label, self.logdir, self.loopback = label, logdir, loopback
        self.port_range, self.cert_dir = port_range, cert_dir
        self.launch_cmd = launch_cmd or [sys.executable, "-m",
                                         "plait.executors.pilot._interchange"]
        self.on_message, self.on_lost = on_message, on_lost
        self.heartbeat_period, self.heartbeat_threshold = heartbeat_period, heartbeat_threshold
        self.ctx = zmq.Context()
        # Guards the outbox and the tasks socket: submit may run on any thread.
        self.lock = threading.Lock()
        self._out_funcs: list[_Message] = []
        self._out_metas: list[tuple[Any, ...]] = []
        self._out_frames: list[Any] = []
        self._out_other: list[_Message] = []
        self._parked: list[_Message] = []  # built, but the socket had no room: sent first
        self._parked_since = 0.0
        self._last_heard = 0.0  # when the interchange was last heard from (I/O thread only)
        self._lost: BaseException | None = None  # why the interchange is gone, once it is
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
        return not (self._out_metas or self._out_other or self._out_funcs or self._parked)

    def post_task(self, meta: tuple[Any, ...], frames: list[Any],
                  before: list[_Message] | None = None, alone: bool = False) -> None:
        """Send or queue one task, after ``before`` (its function body, shared arguments);
        call with :attr:`lock` held.

        A task submitted alone (``alone``: no other task is outstanding; or none was
        submitted in the last millisecond) is sent at once from this thread: one thread hop
        less on the latency path. A burst goes through the outbox and leaves as one message.
        """
        wake = self._outbox_empty()
        now = time.perf_counter()
        if wake and (alone or now - self._last_direct > 1e-3) and not self._stopping:
            self._last_direct = now
            task = [P.TASKS, P.dumps([meta]), *frames]
            refused = self._send_all([*before, task] if before else [task])
            if refused:  # no interchange connected: the I/O thread waits for room
                self._parked, self._parked_since = refused, time.monotonic()
                os.write(self._wake_w, b"p")
            return
        self._last_direct = now
        if before:
            self._out_funcs += before
        self._out_metas.append(meta)
        self._out_frames += frames
        if wake:
            os.write(self._wake_w, b"s")

    def send(self, frames: _Message) -> None:
        """Queue one control message; call with :attr:`lock` held."""
        wake = self._outbox_empty()
        self._out_other.append(frames)
        if wake:
            os.write(self._wake_w, b"s")

    def _send_all(self, messages: list[_Message]) -> list[_Message]:
        """Send in order without blocking (lock held); returns those the socket had no room for.

        The tasks socket is bound here, so it has room only while an interchange is connected
        (the high-water mark is off): just after start, or with a stuck interchange, it has
        none, and a blocking send would hold the lock, and every submitter, indefinitely.
        """
        for i, msg in enumerate(messages):
            try:
                P.send(self.tasks, msg, zmq.NOBLOCK)
            except zmq.Again:
                return messages[i:]
        return []

    def _flush(self) -> bool:
        """Send the outbox (I/O thread); True if messages still wait for room on the socket."""
        with self.lock:
            messages = [*self._parked, *self._out_funcs]
            metas, frames = self._out_metas, self._out_frames
            pos = 0
            for i in range(0, len(metas), _CHUNK):  # a burst leaves in bounded messages
                chunk = metas[i:i + _CHUNK]
                n = sum(meta[5] for meta in chunk)
                messages.append([P.TASKS, P.dumps(chunk), *frames[pos:pos + n]])
                pos += n
            messages += self._out_other
            self._out_funcs, self._out_metas, self._out_frames, self._out_other = [], [], [], []
            self._parked = self._send_all(messages)
            if not self._parked:
                self._parked_since = 0.0
            elif not self._parked_since:
                self._parked_since = time.monotonic()
            return bool(self._parked)

    def _heartbeat(self) -> None:
        with self.lock:
            if not self._parked:  # else the socket has no room, and the message waits anyway
                self._send_all([[P.HEARTBEAT]])

    def command(self, name: str, args: Any = None, timeout: float = 10.0) -> Any:
        """Run a command in the interchange and return its reply."""
        fut: LightFuture[Any] = LightFuture()
        with self.lock:
            if self._lost is not None:
                raise self._lost
            if self._closed:
                raise RuntimeError("the interchange connection is closed")
            req = next(self._req)
            self._replies[req] = fut
            self.send([P.COMMAND, P.dumps((req, name, args))])
        try:
            return fut.result(timeout=timeout)
        finally:
            self._replies.pop(req, None)

    # -- the I/O thread ------------------------------------------------------------------------
    def _loop(self) -> None:
        assert self.child is not None
        poller = zmq.Poller()
        poller.register(self.results, zmq.POLLIN)
        poller.register(self.child.fd, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        # The tasks socket is read too: the interchange's heartbeats also come back on it, so
        # a large result queued on the results socket does not hide that it is alive.
        poller.register(self.tasks, zmq.POLLIN)
        watching_room = False
        period = self.heartbeat_period
        now = self._last_heard = time.monotonic()
        # ``tick``: the next time the clock matters (a heartbeat to send, or the earliest
        # moment the interchange could count as unresponsive); between ticks, events only.
        next_beat = tick = now + period
        try:
            while True:
                ready = dict(poller.poll(int(max(0.0, tick - now) * 1000) + 1))
                woke, now = now, time.monotonic()
                if now - woke > self.heartbeat_threshold:
                    # This process was stopped or starved (Ctrl-Z, swap), not only the
                    # interchange: give the interchange a full threshold from now.
                    self._last_heard = now
                if self.results in ready:
                    self._last_heard = now
                    self._receive()
                tasks_ready = ready.get(self.tasks, 0)
                if tasks_ready & zmq.POLLIN:
                    self._last_heard = now
                    self._beats_in()
                if self._wake_r in ready or tasks_ready & zmq.POLLOUT:
                    if self._wake_r in ready:
                        os.read(self._wake_r, 65536)
                    waiting = self._flush()
                    if waiting != watching_room:  # watch for room only while a message waits
                        poller.register(self.tasks, zmq.POLLIN | (zmq.POLLOUT if waiting else 0))
                        watching_room = waiting
                    if waiting:
                        tick = min(tick, self._parked_since + _CONNECT_GRACE)
                    if self._stopping:
                        self._receive()  # deliver what already arrived, then stop
                        return
                if self.child.fd in ready:
                    self._receive()
                    self._interchange_died()
                    return
                if now >= tick:
                    if now >= next_beat:
                        self._heartbeat()
                        next_beat = now + period
                    why = self._unresponsive(now)
                    if why:
                        self._interchange_unresponsive(why)
                        return
                    tick = self._next_tick(next_beat)
        except Exception as exc:  # a bug here must not leave futures hanging
            log.exception("the I/O thread of executor %s failed", self.label)
            self._gone(exc)

    def _next_tick(self, next_beat: float) -> float:
        tick = next_beat
        if self.started.done():
            tick = min(tick, self._last_heard + self.heartbeat_threshold)
        if self._parked_since:
            tick = min(tick, self._parked_since + _CONNECT_GRACE)
        return tick

    def _unresponsive(self, now: float) -> str | None:
        """Why the (live) interchange counts as unresponsive now, or None."""
        silent = now - self._last_heard
        if self.started.done() and silent > self.heartbeat_threshold:
            return (f"nothing came from it for {silent:.1f} s "
                    f"(heartbeat_threshold={self.heartbeat_threshold:g})")
        parked = self._parked_since
        if parked and now - parked > _CONNECT_GRACE:
            return f"it took no message for {now - parked:.1f} s"
        return None

    def _beats_in(self) -> None:
        """Read the heartbeats that came back on the tasks socket (under the lock: submitting
        threads send on that socket)."""
        with self.lock:
            try:
                while True:
                    self.tasks.recv(zmq.NOBLOCK)
            except zmq.Again:
                pass

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
        elif kind != P.HEARTBEAT:
            self.on_message(kind, frames)

    def _interchange_died(self) -> None:
        assert self.child is not None
        code = self.child.exitcode(timeout=2)
        tail = self.stderr_tail()
        if tail:
            log.error("interchange of %s died (%s); stderr:\n%s", self.label, code, tail)
        self._gone(InterchangeLost(code, self.log_path, pid=self.child.pid,
                                   hostname=socket.gethostname()))

    def _interchange_unresponsive(self, why: str) -> None:
        assert self.child is not None
        log.error("interchange of %s (pid %d) is unresponsive: %s; killing it", self.label,
                  self.child.pid, why)
        # SIGKILL ends a stopped process too. Nothing it holds can be trusted any more, and
        # once it is gone its managers stop too (no heartbeat), so nothing is left behind.
        self.child.kill()
        self._gone(InterchangeLost(None, self.log_path, pid=self.child.pid,
                                   hostname=socket.gethostname(), unresponsive=why))

    def _gone(self, exc: BaseException) -> None:
        """The interchange cannot serve any more: fail whoever waits on it, then tell the owner."""
        with self.lock:
            self._lost = exc
            waiting = list(self._replies.values())
        if not self.started.done():
            self.started.set_exception(exc)
        for fut in waiting:
            if not fut.done():
                fut.set_exception(exc)
        self.on_lost(exc)

    # -- stopping ------------------------------------------------------------------------------
    def stop(self, timeout: float) -> None:
        """Ask the interchange to exit, kill it after ``timeout``, join the thread; idempotent."""
        child = self.child
        confirmed = False
        if child is not None and child.exitcode() is None and self._thread is not None \
                and self._thread.is_alive():
            try:
                confirmed = self.command("SHUTDOWN", timeout=min(timeout, 2.0))
            except Exception as exc:
                log.debug("interchange did not confirm shutdown: %s", exc)
        with self.lock:
            self._closed = True
        # Waiting only for one that said it is exiting: an interchange that does not answer
        # (stopped, frozen) will not exit on its own.
        if child is not None and child.exitcode(timeout=timeout if confirmed else 0) is None:
            log.warning("interchange did not exit%s; killing it",
                        f" within {timeout} s" if confirmed else " (it did not answer)")
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

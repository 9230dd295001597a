"""The executor's end of the interchange: its process, its channel and the I/O thread.

    submit() ──(lock) outbox + wake-up pipe──▶ I/O thread ──▶ channel ──▶ interchange
    I/O thread ◀── channel ◀── interchange (results, events, replies, heartbeats)
    the I/O thread waits on: the channel, the interchange's death descriptor, wake-up pipe,
    the channel becoming writable (only while bytes wait for room), and a deadline
    (the next heartbeat to send, or the interchange's silence reaching the threshold)

The channel (:mod:`._channel`) is a socketpair whose other end the interchange inherits: no
port, no keys, and a message wakes only the thread that reads it. Submitting threads append
to an outbox and wake the I/O thread when the outbox was empty, so tasks submitted in a
burst leave as one message; a lone task is sent directly. Every write to the channel happens
under ``lock`` and never blocks: what the socket has no room for waits in the channel, and
the I/O thread writes it once the socket is writable. ``on_lost`` is called only by the I/O
thread, with no lock held.

Supervision: the interchange's death wakes the I/O thread through its death descriptor (and
its end of the channel closing). An interchange that is alive but unresponsive (stopped,
frozen, swapping) is found by heartbeats: each side sends one every ``heartbeat_period``;
when nothing has come from it for ``heartbeat_threshold`` seconds, or bytes have waited for
it to read for as long, the client kills it and reports InterchangeLost naming it, as for a
death. Any bytes read count as hearing from it, so a large result in transit never hides a
live interchange.

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
from plait.executors.pilot._channel import Channel
from plait.executors.pilot._sockets import BATCH
from plait.executors.pilot._spawn import Child

log = logging.getLogger(__name__)
# Tasks per message at most: the interchange handles one message at a time, and a message of
# a million tasks would keep it from its heartbeats for longer than the threshold.
_CHUNK = 2000
_Message = list[Any]


class InterchangeClient:
    """Starts the interchange and carries messages to and from it."""

    def __init__(self, label: str, logdir: str, launch_cmd: list[str] | None,
                 on_message: Callable[[bytes, list[memoryview]], None],
                 on_lost: Callable[[BaseException], None], *,
                 heartbeat_period: float = 2.0, heartbeat_threshold: float = 8.0) -> None:
        self.label, self.logdir = label, logdir
        self.launch_cmd = launch_cmd or [sys.executable, "-m",
                                         "plait.executors.pilot._interchange"]
        self.on_message, self.on_lost = on_message, on_lost
        self.heartbeat_period, self.heartbeat_threshold = heartbeat_period, heartbeat_threshold
        # Guards the outbox and writing to the channel: submit may run on any thread.
        self.lock = threading.Lock()
        self._out_funcs: list[_Message] = []
        self._out_metas: list[tuple[Any, ...]] = []
        self._out_frames: list[Any] = []
        self._out_other: list[_Message] = []
        self._stalled_since = 0.0  # since when written bytes wait for the interchange to read
        self._last_heard = 0.0  # when the interchange was last heard from (I/O thread only)
        self._lost: BaseException | None = None  # why the interchange is gone, once it is
        self._stopping = False
        self._last_direct = 0.0
        self.child: Child | None = None
        self.started = LightFuture[dict[str, Any]]()
        self._replies: dict[int, LightFuture[Any]] = {}
        self._req = itertools.count(1)
        self._wake_r, self._wake_w = os.pipe()
        mine, self._theirs = socket.socketpair()
        self.chan = Channel(mine)
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def log_path(self) -> str:
        return os.path.join(self.logdir, "interchange.log")

    def start(self, cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Start the interchange with ``cfg``; returns its STARTED info or raises why not."""
        theirs = self._theirs.fileno()
        cfg = {**cfg, "executor_fd": theirs, "logdir": self.logdir}
        os.makedirs(self.logdir, exist_ok=True)
        try:
            with open(os.path.join(self.logdir, "interchange.stderr"), "ab") as err:
                self.child = Child(self.launch_cmd, stdin=subprocess.PIPE, stdout=err,
                                   stderr=err, start_new_session=True, pass_fds=(theirs,))
        finally:
            self._theirs.close()  # the child's now: its death or exit closes the channel
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
            self._send_all([*before, task] if before else [task])
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

    def _send_all(self, messages: list[_Message]) -> bool:
        """Write in order without blocking (lock held); True if bytes wait for room.

        The first time bytes have to wait, the I/O thread is woken to watch for room: a
        blocking write would hold the lock, and every submitter, as long as the interchange
        does not read (stopped, stuck).
        """
        was = self.chan.pending
        for msg in messages:
            self.chan.send(msg)
        waiting = self.chan.pending
        if waiting and not was:
            self._stalled_since = time.monotonic()
            os.write(self._wake_w, b"p")
        return waiting

    def _flush(self) -> bool:
        """Send the outbox (I/O thread); True if bytes still wait for room on the channel."""
        with self.lock:
            messages = self._out_funcs
            metas, frames = self._out_metas, self._out_frames
            pos = 0
            for i in range(0, len(metas), _CHUNK):  # a burst leaves in bounded messages
                chunk = metas[i:i + _CHUNK]
                n = sum(meta[5] for meta in chunk)
                messages.append([P.TASKS, P.dumps(chunk), *frames[pos:pos + n]])
                pos += n
            messages += self._out_other
            self._out_funcs, self._out_metas, self._out_frames, self._out_other = [], [], [], []
            written = self.chan.written
            if not self.chan.flush():
                self._stalled_since = 0.0
            elif self.chan.written != written:  # progress: it reads, slowly
                self._stalled_since = time.monotonic()
            return self._send_all(messages)

    def _heartbeat(self) -> None:
        with self.lock:
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
        chan = self.chan
        poller = zmq.Poller()
        poller.register(chan.fd, zmq.POLLIN)
        poller.register(self.child.fd, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        watching_room = False
        period = self.heartbeat_period
        now = self._last_heard = time.monotonic()
        # ``tick``: the next time the clock matters (a heartbeat to send, or the earliest
        # moment the interchange could count as unresponsive); between ticks, events only.
        next_beat = tick = now + period
        try:
            while True:
                wait = 0 if chan.backlog else int(max(0.0, tick - now) * 1000) + 1
                ready = dict(poller.poll(wait))
                woke, now = now, time.monotonic()
                if now - woke > self.heartbeat_threshold:
                    # This process was stopped or starved (Ctrl-Z, swap), not only the
                    # interchange: give the interchange a full threshold from now.
                    self._last_heard = now
                    if self._stalled_since:
                        self._stalled_since = now
                events = ready.get(chan.fd, 0)
                if events & zmq.POLLIN or chan.backlog:
                    self._last_heard = now
                    self._receive()
                    if chan.eof:  # its end closed: it exited, or is about to
                        self._interchange_died()
                        return
                if self._wake_r in ready or events & zmq.POLLOUT:
                    if self._wake_r in ready:
                        os.read(self._wake_r, 65536)
                    waiting = self._flush()
                    if waiting != watching_room:  # watch for room only while bytes wait
                        poller.register(chan.fd, zmq.POLLIN | (zmq.POLLOUT if waiting else 0))
                        watching_room = waiting
                    if waiting:
                        tick = min(tick, self._stalled_since + self.heartbeat_threshold)
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
        if self._stalled_since:
            tick = min(tick, self._stalled_since + self.heartbeat_threshold)
        return tick

    def _unresponsive(self, now: float) -> str | None:
        """Why the (live) interchange counts as unresponsive now, or None."""
        silent = now - self._last_heard
        if self.started.done() and silent > self.heartbeat_threshold:
            return (f"nothing came from it for {silent:.1f} s "
                    f"(heartbeat_threshold={self.heartbeat_threshold:g})")
        stalled = self._stalled_since
        if stalled and now - stalled > self.heartbeat_threshold:
            return f"it read nothing sent to it for {now - stalled:.1f} s"
        return None

    def _receive(self) -> None:
        for frames in self.chan.recv(BATCH * 10):
            self._on_frames(frames)

    def _on_frames(self, frames: list[memoryview]) -> None:
        kind = frames[0].tobytes()
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
        if code is None:  # alive with its end of the channel closed: broken, end it
            self.child.kill()
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
        self.chan.sock.close()
        self._theirs.close()  # if start() never ran
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

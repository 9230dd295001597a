"""Manager: one per node; runs N worker processes and holds one socket to the interchange.

    interchange ⇄ link (task batches in, result batches out) ⇄ manager
    the link: the interchange's Unix socket for a manager on the submitting host, else a
    DEALER on TCP (see _connect)
    manager ⇄ one socketpair each ⇄ worker[0..N-1]; each worker's pidfd tells it died
    waits on: interchange socket, worker sockets, worker death descriptors; deadlines for
    heartbeats, drain and a silent interchange

Run by a block as ``plait-worker-pool ...`` or ``python -m plait.executors.pilot._manager ...``
(see :mod:`._options` for the arguments). Single-threaded: workers are started with
subprocess from this one thread. A worker that dies mid-task fails that task with WorkerLost
and is replaced; workers that die before becoming ready three times running mean the node
cannot run workers, and the manager exits non-zero with the last worker's log tail on stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
import uuid
from collections import deque
from typing import Any

import zmq

from plait._sampling import TaskSampling, decode_spec
from plait.executors._errors import WorkerLost
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._connect import UnixLink, ZmqLink, connect
from plait.executors.pilot._options import parse_args
from plait.executors.pilot._pipe import recv_msg, send_msg
from plait.executors.pilot._pool import WorkerPool
from plait.serialize._pack import pack_value

log = logging.getLogger("plait.manager")
_START_FAILURES = 3
_WORKER_START_S = 300  # imports on a slow shared file system can take minutes
_HOLD_S, _HOLD_MAX = 0.002, 64  # how long / how many results may wait to leave together


def _own(frame: Any) -> Any:
    """A frame that holds only its own bytes (a view is copied out of its message)."""
    return frame.tobytes() if isinstance(frame, memoryview) else frame


class Manager:
    """The manager's state and event loop."""

    def __init__(self, opts: Any, uid: str) -> None:
        self.opts, self.uid = opts, uid
        self.hostname = socket.gethostname()
        self.ctx = zmq.Context()
        # tid8, function digest, frames, shared arguments named
        self.queue: deque[tuple[bytes, bytes, list[Any], tuple[bytes, ...]]] = deque()
        self.bodies: dict[bytes, Any] = {}
        self.shared: dict[bytes, list[Any]] = {}  # shared arguments, by digest (see _shared)
        self.shared_limit = 0  # bytes each worker may keep of them (from the interchange)
        self.results: list[Any] = []
        self.meta: list[tuple[int, int, int]] = []
        self.start_failures = 0
        self.running = True
        self.exit_code = 0
        self.last_heard = 0.0
        self.held_since = 0.0
        self.ix: ZmqLink | UnixLink
        self.pool: WorkerPool
        self.sampling: TaskSampling | None = None  # resource monitoring, when asked for

    # -- interchange side --------------------------------------------------------------------
    def _on_interchange(self, frames: list[Any]) -> None:
        kind = bytes(frames[0])
        self.last_heard = time.monotonic()
        if kind == P.TASKS:
            new, tasks, sent, dropped = P.loads(frames[1])
            pos = 2
            # What is kept beyond this message is copied out of it: over the Unix socket a
            # frame is a view into the whole message, whose every argument it would keep.
            for digest in new:
                self.bodies[digest] = _own(frames[pos])
                pos += 1
            for ref in dropped:  # the interchange decides what this manager holds
                self.shared.pop(ref, None)
            for ref, n in sent:
                self.shared[ref] = [_own(f) for f in frames[pos:pos + n]]
                pos += n
            for tid, digest, n, refs in tasks:
                self.queue.append((P.pack_tid(tid), digest, frames[pos:pos + n], refs))
                pos += n
        elif kind == P.EXIT:
            log.info("the interchange told this manager to exit")
            self.running = False

    def _from_interchange(self) -> None:
        # A method of its own: a loop variable in _serve would keep the last message (and a
        # large argument's memory) alive until the next one.
        for frames in self.ix.messages():
            self._on_interchange(frames)

    # -- worker side --------------------------------------------------------------------------
    def _on_worker(self, rank: int) -> None:
        frames = recv_msg(self.pool.socks[rank])
        if frames is None:  # it exited; its death descriptor reports how
            self.pool.closed(rank)
            return
        kind = frames[0]
        if kind == P.RESULTS:
            self.pool.finished(rank)  # also unpins the task's shared arguments
            self.meta.append((P.unpack_tid(frames[1]), frames[2][0], len(frames) - 3))
            self.results += frames[3:]
        elif kind == P.READY:
            self.pool.ready(rank)
            self.start_failures = 0

    def _on_worker_death(self, rank: int) -> None:
        if self.sampling is not None and rank in self.pool.children:
            self.sampling.worker_ended(self.pool.children[rank].pid)
        peak_rss, highest = self.pool.memory_facts(rank)
        code, tid, started = self.pool.reap(rank)
        log.warning("worker %d exited (%s); running task: %s", rank, code, tid)
        if tid is not None:
            exc = WorkerLost(f"{self.uid}-{rank}", self.hostname, tid, code,
                             self.pool.log_path(rank), peak_rss=peak_rss,
                             highest_rss_on_node=highest)
            self.meta.append((tid, P.FAILED, 1))
            self.results += pack_value(exc)
        if not started:
            self.start_failures += 1
            if self.start_failures >= _START_FAILURES:
                tail = self.pool.log_tail(rank)
                sys.stderr.write(f"plait manager {self.uid}: workers exit before starting "
                                 f"(last exit status {code}); last worker log:\n{tail}\n")
                log.error("workers cannot start (status %s):\n%s", code, tail)
                self.exit_code = 3
                self.running = False
                return
        if self.running:
            self.pool.start(rank)

    def _feed_workers(self) -> None:
        queue, pool = self.queue, self.pool
        while queue and pool.idle:
            tid8, digest, frames, refs = queue.popleft()
            rank = pool.idle.popleft()
            body = b""
            if digest not in pool.digests[rank]:
                pool.digests[rank].add(digest)
                body = self.bodies[digest]
            pool.assign(rank, P.unpack_tid(tid8), refs)
            shared_meta: bytes = b""
            if refs:
                shared_meta, frames = self._share(rank, refs, frames)
            if self.sampling is not None:  # counts the task's use from now
                self.sampling.task_started(pool.children[rank].pid)
            try:
                send_msg(pool.socks[rank], [P.TASKS, tid8, digest, body, shared_meta, *frames])
            except OSError as exc:  # it died after saying it was idle: its sentinel follows
                log.warning("could not send task to worker %d: %s", rank, exc)

    def _share(self, rank: int, refs: tuple[bytes, ...], frames: list[Any]
               ) -> tuple[bytes, list[Any]]:
        """The worker's part of a task's shared arguments: what it must drop, what it lacks."""
        ledger = self.pool.ledger(rank, self.shared_limit)
        sent: list[tuple[bytes, int]] = []
        dropped: list[bytes] = []
        extra: list[Any] = []
        # held here: the interchange pins each until the task's result
        ledger.offer(refs, self.shared, sent, dropped, extra)
        return P.dumps((dropped, sent)), [*extra, *frames]

    def _maybe_flush(self, now: float) -> None:
        # With tasks still queued here the workers stay busy anyway, so results may wait a
        # moment to leave together: one message for many tasks on every link upstream. With
        # none queued, the interchange may be waiting for these results: send them now.
        if not self.held_since:
            self.held_since = now
        if (not self.queue or len(self.meta) >= _HOLD_MAX
                or now - self.held_since >= _HOLD_S):
            self._flush_results()

    def _flush_results(self) -> None:
        if self.meta:
            self.ix.send([P.RESULTS, P.dumps(self.meta), *self.results])
            self.meta, self.results = [], []
            self.held_since = 0.0

    # -- loop ---------------------------------------------------------------------------------
    def run(self) -> int:
        """Connect, start workers, register once one is ready, serve; returns the exit code.

        Registering only after a worker is ready means a node whose workers cannot start
        never takes tasks: its block ends without connecting, which the executor reports as
        BlockFailed with this manager's stderr (the worker's log tail).
        """
        opts = self.opts
        ix = connect(self.ctx, opts, self.uid)
        if ix is None:
            self.ctx.destroy(linger=0)
            return 2
        self.ix = ix
        self.pool = WorkerPool(opts, self.uid)
        if opts.monitoring:
            self.sampling = TaskSampling(
                decode_spec(opts.monitoring), self.hostname, opts.block_id,
                lambda samples: self.ix.send([P.MONITOR, P.dumps(samples)]))
        try:
            self.pool.start_all()
            if not self._await_first_worker():
                return self.exit_code or 3
            if not self._register():
                return 4
            self._serve()
        finally:
            self.pool.stop()
            self._flush_results()
            self.ix.close()
            self.ctx.destroy(linger=500)
        return self.exit_code

    def _await_first_worker(self) -> bool:
        poller = zmq.Poller()
        pool = self.pool
        pool.attach(poller)
        deadline = time.monotonic() + _WORKER_START_S
        while self.running and not any(pool.started.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.error("no worker became ready within %d s", _WORKER_START_S)
                sys.stderr.write(f"plait manager {self.uid}: no worker started within "
                                 f"{_WORKER_START_S} s; see {pool.log_path(0)}\n")
                return False
            for fd, _ in poller.poll(int(remaining * 1000) + 1):
                if fd in pool.data:
                    self._on_worker(pool.data[fd])
                elif fd in pool.fds:
                    self._on_worker_death(pool.fds[fd])
        return self.running

    def _register(self) -> bool:
        opts, pool = self.opts, self.pool
        reg = {"versions": P.local_versions(), "hostname": self.hostname, "uid": self.uid,
               "block_id": opts.block_id, "workers": pool.count,
               "prefetch_capacity": opts.prefetch_capacity,  # None: automatic
               "cores_per_worker": opts.cores_per_worker,
               "mem_per_worker": (opts.mem_per_worker or 0) * 1024,
               "cores_total": pool.cores_total, "mem_total": pool.mem_total_mb,
               "python_version": sys.version.split()[0], "pid": os.getpid(),
               "start_time": time.time()}
        self.ix.send([P.REGISTER, P.dumps(reg)])
        frames = self.ix.receive(opts.heartbeat_threshold)
        if frames is None:
            log.error("the interchange did not answer the registration within %s s",
                      opts.heartbeat_threshold)
            return False
        if bytes(frames[0]) == P.REFUSE:
            table = P.loads(frames[1])
            log.error("the interchange refused this manager: versions differ\n%s", table)
            sys.stderr.write(f"plait manager refused: versions differ\n{table}\n")
            return False
        self.last_heard = time.monotonic()
        self.shared_limit = int(P.loads(frames[1]).get("shared_cache_bytes", 0))
        log.info("registered with %d workers", pool.count)
        return True

    def _serve(self) -> None:
        opts, ix = self.opts, self.ix
        poller = zmq.Poller()
        poller.register(ix.pollable, zmq.POLLIN)
        watching_room = False
        pool = self.pool
        pool.attach(poller)
        next_beat = time.monotonic() + opts.heartbeat_period
        drain_at = (time.monotonic() + opts.drain_period) if opts.drain_period else None
        while self.running:
            now = time.monotonic()
            deadlines = [next_beat, self.last_heard + opts.heartbeat_threshold]
            if self.meta:
                deadlines.append(self.held_since + _HOLD_S)
            if drain_at is not None:
                deadlines.append(drain_at)
            if self.sampling is not None:
                deadlines.append(self.sampling.due)
            timeout = 0 if ix.backlog else int(max(0.0, min(deadlines) - now) * 1000) + 1
            ready = poller.poll(timeout)
            if ix.backlog:  # read before, with the registration's reply or a full batch
                self._from_interchange()
            deaths = []
            for fd, events in ready:
                if fd == ix.pollable:
                    if events & zmq.POLLOUT:
                        ix.flush()
                    if events & zmq.POLLIN:
                        self._from_interchange()
                elif fd in pool.data:
                    self._on_worker(pool.data[fd])
                elif fd in pool.fds:
                    deaths.append(pool.fds[fd])
            for rank in deaths:  # after reading: a result sent just before death counts
                self._on_worker_death(rank)
            self._feed_workers()
            if self.meta:
                self._maybe_flush(time.monotonic())
            now = time.monotonic()
            if now >= next_beat:
                # Memory is sampled here, on the heartbeat deadline: no thread or timer of
                # its own, and the interchange shows it (connected_managers()).
                rss = self.pool.sample_memory()
                ix.send([P.HEARTBEAT, P.dumps(rss)])
                next_beat = now + opts.heartbeat_period
            if self.sampling is not None and now >= self.sampling.due:
                self.sampling.sample(now, {pool.children[r].pid: tid for r, tid in
                                           pool.running.items()
                                           if tid is not None and r in pool.children})
            if drain_at is not None and now >= drain_at:
                log.info("drain period over: asking the interchange for no more tasks")
                ix.send([P.DRAIN])
                drain_at = None
            if ix.eof and self.running:  # (after an EXIT it closes the connection)
                log.error("the interchange closed the connection; exiting")
                self.exit_code = 5
                self.running = False
            elif now - self.last_heard > opts.heartbeat_threshold:
                log.error("no message from the interchange for %s s; exiting",
                          opts.heartbeat_threshold)
                self.exit_code = 5
                self.running = False
            if ix.pending != watching_room:  # watch for room only while bytes wait
                watching_room = ix.pending
                poller.register(ix.pollable, zmq.POLLIN | (zmq.POLLOUT if watching_room else 0))


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``plait-worker-pool``."""
    opts = parse_args(argv)
    uid = opts.uid or uuid.uuid4().hex[-12:]
    logdir = os.path.join(opts.logdir, f"block-{opts.block_id}", uid)
    os.makedirs(logdir, exist_ok=True)
    opts.logdir = logdir
    logging.basicConfig(filename=os.path.join(logdir, "manager.log"),
                        level=logging.DEBUG if opts.debug else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _on_sigterm)
    log.info("manager %s starting on %s (pid %d)", uid, socket.gethostname(), os.getpid())
    try:
        code = Manager(opts, uid).run()
    except Exception:
        log.exception("manager failed")
        raise
    log.info("manager exiting with code %d", code)
    sys.exit(code)


if __name__ == "__main__":
    main()

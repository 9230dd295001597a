"""The manager's worker processes: start, pin, track and reap them.

Each worker is a fresh interpreter started with subprocess (never forked: the manager holds
ZeroMQ's I/O threads), talking over its own socketpair (see :mod:`._pipe`). Its socket and
its death descriptor (see :mod:`._spawn`) join the manager's poller, so a killed worker is
noticed the moment it exits. Each worker's resident memory is sampled when the manager
sends its heartbeat, so a lost worker's error can say how much memory it held.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections import deque
from typing import Any

import psutil
import zmq

from plait.executors.pilot._placement import (
    accelerator_env,
    affinity_env,
    cpu_assignment,
    node_resources,
    worker_count,
)
from plait.executors.pilot._spawn import Child
from plait.serialize._shared import Ledger

log = logging.getLogger("plait.manager")
_TAIL = 2048


class WorkerPool:
    """Worker processes by rank, which are idle, and which task each one runs."""

    def __init__(self, opts: Any, uid: str) -> None:
        self.opts, self.uid = opts, uid
        cores, mem_gb = node_resources()
        self.accelerators: list[str] = list(opts.accelerators or [])
        self.count = worker_count(cores, mem_gb, opts.cores_per_worker, opts.mem_per_worker,
                                  opts.max_workers_per_node, len(self.accelerators))
        self.cores_total, self.mem_total_mb = cores, mem_gb * 1024
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.cpus = (cpu_assignment(opts.cpu_affinity, self.count, opts.cores_per_worker, cpus)
                     if cpus else None)
        self.children: dict[int, Child] = {}
        self.procs: dict[int, psutil.Process] = {}  # for memory samples
        self.last_rss: dict[int, int] = {}  # bytes, at the latest sample
        self.peak_rss: dict[int, int] = {}  # bytes, highest sample since the worker started
        self.socks: dict[int, socket.socket] = {}
        self.data: dict[int, int] = {}  # socket fd -> rank
        self.fds: dict[int, int] = {}  # death descriptor -> rank
        self.poller: zmq.Poller | None = None
        self.running: dict[int, int | None] = {}
        self.started: dict[int, bool] = {}
        self.digests: dict[int, set[bytes]] = {}
        self.ledgers: dict[int, Ledger] = {}  # what each worker holds of shared arguments
        self.refs: dict[int, tuple[bytes, ...]] = {}  # shared arguments of its running task
        self.idle: deque[int] = deque()

    def log_path(self, rank: int) -> str:
        return os.path.join(self.opts.logdir, f"worker_{rank}.log")

    def log_tail(self, rank: int) -> str:
        try:
            with open(self.log_path(rank), "rb") as fh:
                fh.seek(max(0, os.path.getsize(self.log_path(rank)) - _TAIL))
                return fh.read().decode(errors="replace")
        except OSError:
            return "(no log)"

    def _env(self, rank: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PARSL_WORKER_RANK=str(rank), PARSL_WORKER_COUNT=str(self.count),
                   PARSL_WORKER_POOL_ID=self.uid, PARSL_WORKER_BLOCK_ID=str(self.opts.block_id))
        if self.accelerators:
            env.update(accelerator_env(self.accelerators[rank % len(self.accelerators)]))
        if self.cpus is not None:
            cpus = self.cpus[rank]
            env.update(affinity_env(cpus))
            env["PLAIT_WORKER_CPUS"] = ",".join(str(c) for c in cpus)
        return env

    def start(self, rank: int) -> None:
        """Start (or restart) the worker of this rank."""
        mine, theirs = socket.socketpair()
        with open(self.log_path(rank), "ab") as out:
            child = Child([sys.executable, "-m", "plait.executors.pilot._worker",
                           str(theirs.fileno()), str(rank)], env=self._env(rank),
                          stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                          pass_fds=(theirs.fileno(),))
        theirs.close()
        self.children[rank] = child
        self.procs[rank] = psutil.Process(child.pid)
        self.socks[rank] = mine
        self.data[mine.fileno()] = rank
        self.fds[child.fd] = rank
        self._watch(mine.fileno())
        self._watch(child.fd)
        self.running[rank] = None
        self.started[rank] = False
        self.digests[rank] = set()
        self.ledgers.pop(rank, None)  # a fresh worker holds nothing
        self.refs.pop(rank, None)
        log.debug("worker %d started, pid %d", rank, child.pid)

    def start_all(self) -> None:
        for rank in range(self.count):
            self.start(rank)

    def attach(self, poller: zmq.Poller) -> None:
        """Watch every worker's socket and death descriptor in ``poller`` from now on."""
        self.poller = poller
        for fd in (*self.fds, *self.data):
            poller.register(fd, zmq.POLLIN)

    def _watch(self, fd: int) -> None:
        if self.poller is not None:
            self.poller.register(fd, zmq.POLLIN)

    def _unwatch(self, fd: int) -> None:
        # Before closing: a closed descriptor must never sit in the poller (numbers are reused).
        if self.poller is not None:
            self.poller.unregister(fd)

    def closed(self, rank: int) -> None:
        """The worker's socket reached EOF: stop reading it (its death descriptor follows)."""
        sock = self.socks.pop(rank, None)
        if sock is not None:
            self.data.pop(sock.fileno(), None)
            self._unwatch(sock.fileno())
            sock.close()

    def ready(self, rank: int) -> None:
        self.started[rank] = True
        self.idle.append(rank)

    def assign(self, rank: int, task_id: int, refs: tuple[bytes, ...] = ()) -> None:
        self.running[rank] = task_id
        if refs:
            self.refs[rank] = refs

    def finished(self, rank: int) -> None:
        self.running[rank] = None
        self.idle.append(rank)
        refs = self.refs.pop(rank, None)
        if refs:
            ledger = self.ledgers[rank]
            for ref in refs:
                ledger.release(ref)

    def ledger(self, rank: int, limit: int) -> Ledger:
        """What the worker of this rank holds of shared arguments (see serialize._shared)."""
        found = self.ledgers.get(rank)
        if found is None:
            found = self.ledgers[rank] = Ledger(limit)
        return found

    def sample_memory(self) -> list[int | None]:
        """Sample every worker's resident memory (bytes, by rank; None: not known)."""
        for rank, proc in self.procs.items():
            try:
                rss = proc.memory_info().rss
            except psutil.Error:  # exiting: its death descriptor reports it
                continue
            self.last_rss[rank] = rss
            if rss > self.peak_rss.get(rank, 0):
                self.peak_rss[rank] = rss
        return [self.last_rss.get(rank) for rank in range(self.count)]

    def memory_facts(self, rank: int) -> tuple[int | None, bool]:
        """A worker's peak memory seen (bytes) and whether, at the latest sample, it held the
        most memory of this node's workers."""
        last = self.last_rss.get(rank)
        highest = last is not None and last >= max(self.last_rss.values())
        return self.peak_rss.get(rank), highest

    def reap(self, rank: int) -> tuple[int | None, int | None, bool]:
        """Collect a dead worker: (exit status, task it was running, whether it had started)."""
        child = self.children.pop(rank)
        self.procs.pop(rank, None)
        self.last_rss.pop(rank, None)
        self.peak_rss.pop(rank, None)
        code = child.exitcode(timeout=5)
        self.fds.pop(child.fd, None)
        self._unwatch(child.fd)
        self.closed(rank)
        child.close()
        if rank in self.idle:
            self.idle.remove(rank)
        return code, self.running.pop(rank, None), self.started.pop(rank, False)

    def stop(self) -> None:
        """Kill every worker and reap it (the manager is exiting)."""
        for child in self.children.values():
            child.kill()
        self.poller = None
        for child in self.children.values():
            child.exitcode(timeout=5)
            child.close()
        for rank in list(self.socks):
            self.closed(rank)
        self.children.clear()
        self.procs.clear()
        self.fds.clear()

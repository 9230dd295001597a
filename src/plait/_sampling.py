"""Resource samples of task processes (psutil), taken where the tasks run, and the senders
that carry them as a monitoring radio's spec says (a base-layer module: the pilot's
manager uses it, and executors sit below monitoring).

A pilot manager keeps one ResourceSampler for its workers. When a worker starts a task the
sampler notes the worker's CPU time and I/O so far (workers run many tasks; a task's use is
the difference); on the manager's monitoring deadline it samples every busy worker and its
children, and returns one record per running task, in the columns of Parsl's ``resource``
table. The records travel by the executor's radio (see ``radios``) to the monitoring hub,
which maps executor task ids to the kernel's task and try ids.
"""

from __future__ import annotations

import hmac
import logging
import marshal
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import psutil

from plait._errors import ConfigurationError

log = logging.getLogger("plait.monitoring.sampling")
Deliver = Callable[[list[tuple[Any, ...]]], None]
_DATAGRAM = 60_000  # bytes of records per UDP datagram, under the 64 KiB limit

# Sample layout (radios carry these tuples):
# (executor_task_id, time, interval, hostname, block_id, pid, memory_percent, children,
#  time_user, time_system, memory_virtual, memory_resident, disk_read, disk_write,
#  status, cpu_num, ctx_voluntary, ctx_involuntary)


class _OwnCounters:
    """CPU seconds and bytes read/written by one process, cheaply enough to note at every
    task start: on Linux ``snapshot`` is two ``pread`` calls of ``/proc/<pid>/stat`` and
    ``/proc/<pid>/io`` on descriptors kept open, parsed by ``parse`` only when a sample
    needs them (most short tasks end before any sample); elsewhere psutil."""

    _TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    Snapshot = tuple[Any, Any]

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self._stat = self._io = -1
        try:
            self._stat = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
            self._io = os.open(f"/proc/{pid}/io", os.O_RDONLY)
        except OSError:  # not Linux, or /proc/<pid>/io not readable: psutil then
            pass

    def snapshot(self) -> Snapshot:
        """The counters now, unparsed."""
        if self._stat >= 0:
            return (os.pread(self._stat, 1024, 0),
                    os.pread(self._io, 1024, 0) if self._io >= 0 else b"")
        cpu = self.proc.cpu_times()
        try:
            io = self.proc.io_counters()
            return (cpu.user, cpu.system), (io.read_bytes, io.write_bytes)
        except (psutil.AccessDenied, AttributeError):  # no I/O counters here
            return (cpu.user, cpu.system), (0, 0)

    def parse(self, snap: Snapshot) -> tuple[float, float, int, int]:
        """(user s, system s, read bytes, write bytes) of a ``snapshot``."""
        stat, io = snap
        if isinstance(stat, tuple):
            return stat[0], stat[1], io[0], io[1]
        fields = stat.rpartition(b")")[2].split()
        read = write = 0
        for line in io.splitlines():
            if line.startswith(b"read_bytes:"):
                read = int(line.split()[1])
            elif line.startswith(b"write_bytes:"):
                write = int(line.split()[1])
        return int(fields[11]) / self._TICK, int(fields[12]) / self._TICK, read, write

    def read(self) -> tuple[float, float, int, int]:
        return self.parse(self.snapshot())

    def close(self) -> None:
        for fd in (self._stat, self._io):
            if fd >= 0:
                os.close(fd)
        self._stat = self._io = -1


def _children_of(pids: set[int]) -> dict[int, list[psutil.Process]]:
    """The descendants of each of ``pids``: one pass over the process table for all."""
    parent: dict[int, int] = {}
    procs: dict[int, psutil.Process] = {}
    for p in psutil.process_iter(["ppid"]):
        parent[p.pid] = p.info["ppid"]
        procs[p.pid] = p
    out: dict[int, list[psutil.Process]] = {pid: [] for pid in pids}
    for pid in parent:
        up, seen = parent.get(pid), 0
        while up is not None and up not in pids and seen < 64:  # walk up to a worker
            up, seen = parent.get(up), seen + 1
        if up in pids and pid not in pids:
            out[up].append(procs[pid])
    return out


def encode_spec(spec: dict[str, Any]) -> str:
    """A monitoring spec as one shell-safe word (for the manager's command line)."""
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(spec).encode()).decode()


def decode_spec(word: str) -> dict[str, Any]:
    import base64
    import json

    spec: dict[str, Any] = json.loads(base64.urlsafe_b64decode(word.encode()))
    return spec


class TaskSampling:
    """A pilot manager's resource monitoring: every ``interval`` seconds (a deadline in the
    manager's own loop: no thread) sample the workers running tasks and send the records."""

    def __init__(self, spec: dict[str, Any], hostname: str, block_id: str,
                 channel: Deliver) -> None:
        self.interval = float(spec["interval"])
        self.sampler = ResourceSampler(hostname, block_id, self.interval)
        self.send = make_sender(spec["radio"], channel)
        self.due = time.monotonic() + self.interval

    def task_started(self, pid: int) -> None:
        self.sampler.task_started(pid)

    def worker_ended(self, pid: int) -> None:
        self.sampler.process_ended(pid)

    def sample(self, now: float, running: dict[int, int]) -> None:
        """Sample and send (the caller checks ``due``, a deadline of its loop);
        ``running`` maps worker pid → executor task id."""
        self.due = now + self.interval
        samples = self.sampler.sample(running)
        if samples:
            self.send(samples)


class ResourceSampler:
    """Samples the processes running tasks, each counted from the start of its task.

    CPU time and I/O are the task's own (the worker's counters at the task's start are
    taken off; its children, e.g. a bash app's command, are all the task's); context
    switches are the worker's since it started.
    """

    def __init__(self, hostname: str, block_id: str, interval: float) -> None:
        self.hostname, self.block_id, self.interval = hostname, str(block_id), interval
        self._procs: dict[int, _OwnCounters] = {}  # worker pid -> its counters
        self._baseline: dict[int, _OwnCounters.Snapshot] = {}  # at its task's start

    def task_started(self, pid: int) -> None:
        """Note what the process ``pid`` has used before the task it starts now."""
        try:
            counters = self._procs.get(pid)
            if counters is None:
                counters = self._procs[pid] = _OwnCounters(pid)
            self._baseline[pid] = counters.snapshot()
        except (psutil.Error, OSError, ValueError, IndexError):  # it died already
            self.process_ended(pid)

    def process_ended(self, pid: int) -> None:
        counters = self._procs.pop(pid, None)
        if counters is not None:
            counters.close()
        self._baseline.pop(pid, None)

    def sample(self, running: dict[int, int]) -> list[tuple[Any, ...]]:
        """One record per running task: ``running`` maps worker pid → executor task id."""
        now = time.time()
        pids = {pid for pid in running if pid in self._procs}
        if not pids:
            return []
        children = _children_of(pids)
        out = []
        for pid in pids:
            counters = self._procs[pid]
            proc = counters.proc
            snap = self._baseline.get(pid)
            try:
                user, system, read, write = counters.read()
                base = (0.0, 0.0, 0, 0) if snap is None else counters.parse(snap)
                with proc.oneshot():
                    mem = proc.memory_info()
                    percent = proc.memory_percent()
                    status = proc.status()
                    ctx = proc.num_ctx_switches()
                    cpu_num = proc.cpu_num() if hasattr(proc, "cpu_num") else None
            except (psutil.Error, OSError, ValueError, IndexError):  # died since: reported
                self.process_ended(pid)
                continue
            rss, vms = mem.rss, mem.vms
            for child in children[pid]:
                try:
                    with child.oneshot():
                        child_mem, child_cpu = child.memory_info(), child.cpu_times()
                        rss, vms = rss + child_mem.rss, vms + child_mem.vms
                        user, system = user + child_cpu.user, system + child_cpu.system
                        try:
                            io = child.io_counters()
                            read, write = read + io.read_bytes, write + io.write_bytes
                        except (psutil.AccessDenied, AttributeError):
                            pass
                except psutil.Error:  # a child that just ended
                    continue
            out.append((running[pid], now, self.interval, self.hostname, self.block_id, pid,
                        percent, len(children[pid]), user - base[0], system - base[1], vms,
                        rss, read - base[2], write - base[3], status,
                        None if cpu_num is None else str(cpu_num), ctx.voluntary,
                        ctx.involuntary))
        return out


# -- sending (in a pilot manager), as a radio's spec says --------------------------------------
def make_sender(spec: dict[str, Any], channel: Deliver | None = None) -> Deliver:
    """A function sending records as ``spec`` says; ``channel`` is the pilot's own."""
    kind = spec.get("kind")
    if kind in ("htex", "local"):
        if channel is None:
            raise ConfigurationError("remote_monitoring_radio", kind,
                                     "a radio this executor can send through")
        return channel
    if kind == "udp":
        return _udp_sender(spec)
    if kind == "filesystem":
        return _fs_sender(spec["dir"])
    raise ConfigurationError("remote_monitoring_radio", kind, "htex, udp or filesystem")


def _udp_sender(spec: dict[str, Any]) -> Deliver:
    key, digest = bytes.fromhex(spec["key"]), spec["digest"]
    address = (spec["address"], int(spec["port"]))
    sock = socket.socket(socket.AF_INET6 if ":" in spec["address"] else socket.AF_INET,
                         socket.SOCK_DGRAM)

    def send(records: list[tuple[Any, ...]]) -> None:
        chunk: list[tuple[Any, ...]] = []
        size = 0
        for rec in [*records, None]:
            body = marshal.dumps(rec) if rec is not None else b""
            if chunk and (rec is None or size + len(body) > _DATAGRAM):
                payload = marshal.dumps(chunk)
                try:
                    sock.sendto(hmac.new(key, payload, digest).digest() + payload, address)
                except OSError as exc:  # the hub is gone: samples are lost, tasks are not
                    log.debug("monitoring datagram not sent: %s", exc)
                chunk, size = [], 0
            if rec is not None:
                chunk.append(rec)
                size += len(body)

    return send


def _fs_sender(directory: str) -> Deliver:
    tmp, new = os.path.join(directory, "tmp"), os.path.join(directory, "new")
    os.makedirs(tmp, exist_ok=True)
    os.makedirs(new, exist_ok=True)

    def send(records: list[tuple[Any, ...]]) -> None:
        name = f"{uuid.uuid4().hex}.rec"
        try:
            with open(os.path.join(tmp, name), "wb") as fh:
                marshal.dump(records, fh)
            os.rename(os.path.join(tmp, name), os.path.join(new, name))  # whole, or absent
        except OSError as exc:
            log.debug("monitoring records not written: %s", exc)

    return send

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


def _counters(proc: psutil.Process) -> tuple[float, float, int, int, int, int]:
    """CPU user/system seconds, bytes read/written and context switches of ``proc`` and its
    children."""
    user = system = 0.0
    read = write = vol = invol = 0
    for p in (proc, *proc.children(recursive=True)):
        try:
            with p.oneshot():
                cpu = p.cpu_times()
                user += cpu.user
                system += cpu.system
                try:
                    io = p.io_counters()
                    read += io.read_bytes
                    write += io.write_bytes
                except (psutil.AccessDenied, AttributeError):  # not on every platform
                    pass
                ctx = p.num_ctx_switches()
                vol += ctx.voluntary
                invol += ctx.involuntary
        except psutil.NoSuchProcess:  # a child that just ended
            continue
    return user, system, read, write, vol, invol


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

    def maybe_sample(self, now: float, running: dict[int, int]) -> None:
        """Sample and send if due; ``running`` maps worker pid → executor task id."""
        if now < self.due:
            return
        self.due = now + self.interval
        samples = self.sampler.sample(running)
        if samples:
            self.send(samples)


class ResourceSampler:
    """Samples the processes running tasks, each counted from the start of its task."""

    def __init__(self, hostname: str, block_id: str, interval: float) -> None:
        self.hostname, self.block_id, self.interval = hostname, str(block_id), interval
        self._procs: dict[int, psutil.Process] = {}  # pid -> process
        self._baseline: dict[int, tuple[float, float, int, int, int, int]] = {}  # by pid

    def task_started(self, pid: int) -> None:
        """Note what the process ``pid`` has used before the task it starts now."""
        try:
            proc = self._procs.get(pid) or psutil.Process(pid)
            self._procs[pid] = proc
            self._baseline[pid] = _counters(proc)
        except psutil.Error:  # it died already: its death is reported elsewhere
            self._forget(pid)

    def process_ended(self, pid: int) -> None:
        self._forget(pid)

    def _forget(self, pid: int) -> None:
        self._procs.pop(pid, None)
        self._baseline.pop(pid, None)

    def sample(self, running: dict[int, int]) -> list[tuple[Any, ...]]:
        """One record per running task: ``running`` maps worker pid → executor task id."""
        now = time.time()
        out = []
        for pid, task_id in running.items():
            proc = self._procs.get(pid)
            if proc is None:
                continue
            try:
                with proc.oneshot():
                    mem = proc.memory_info()
                    percent = proc.memory_percent()
                    status = proc.status()
                    cpu_num = proc.cpu_num() if hasattr(proc, "cpu_num") else None
                children = proc.children(recursive=True)
                rss, vms = mem.rss, mem.vms
                for child in children:
                    try:
                        child_mem = child.memory_info()
                        rss += child_mem.rss
                        vms += child_mem.vms
                    except psutil.Error:
                        continue
                user, system, read, write, vol, invol = _counters(proc)
            except psutil.Error:  # the worker died between the task and the sample
                self._forget(pid)
                continue
            base = self._baseline.get(pid, (0.0, 0.0, 0, 0, 0, 0))
            out.append((task_id, now, self.interval, self.hostname, self.block_id, pid,
                        percent, len(children), user - base[0], system - base[1], vms, rss,
                        read - base[2], write - base[3], status,
                        None if cpu_num is None else str(cpu_num), vol - base[4],
                        invol - base[5]))
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

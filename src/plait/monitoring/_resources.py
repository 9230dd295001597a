"""Resource samples of task processes (psutil), taken where the tasks run.

A pilot manager keeps one ResourceSampler for its workers. When a worker starts a task the
sampler notes the worker's CPU time and I/O so far (workers run many tasks; a task's use is
the difference); on the manager's monitoring deadline it samples every busy worker and its
children, and returns one record per running task, in the columns of Parsl's ``resource``
table. The records travel by the executor's radio (see ``radios``) to the monitoring hub,
which maps executor task ids to the kernel's task and try ids.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

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

"""The interchange's decisions as a plain object: events in, actions out; no sockets, no clock.

The interchange loop feeds it what happened (a task arrived, a manager registered, results came
back, a manager went silent or away) and carries out what it returns (send these tasks to that
manager, fail these tasks). Time is passed in, so tests drive it without sleeping.

Placement: a manager holds at most ``capacity`` tasks (workers + prefetch). With automatic
prefetch the extra room follows the manager's recent service time (dispatch to result): deep
(8 per worker) while tasks come back within ~20 ms, so short tasks travel in large
batches; one per worker once they take tens of milliseconds, so long tasks do not queue behind
each other on one node while another has room. A task that names
``cores`` or ``memory`` in its resource specification also needs that much free on the manager's
node, counting every task the manager holds at its own or the default size. Pending tasks leave
in priority order (lower value first, none last), ties in arrival order.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_INF = math.inf
# How far down the queue one manager looks for a task that fits it; bounds dispatch cost when
# the head of the queue needs more cores than any free manager has.
_SCAN_LIMIT = 64
_AUTO_DEEP = 8  # prefetched tasks per worker while tasks are fast
_FAST, _SLOW = 0.02, 0.1  # service-time thresholds (s), apart so the mode does not flap


@dataclass(slots=True)
class QueuedTask:
    """A task waiting in or passing through the interchange; ``frames`` are opaque bytes.

    Not the kernel's task record (``dataflow._task.Task``): only what dispatch needs.
    """

    task_id: int
    digest: bytes
    frames: Any = None
    priority: float | None = None
    cores: float | None = None
    memory: float | None = None
    manager: bytes | None = None
    sent_at: float = 0.0
    refs: tuple[bytes, ...] = ()  # digests of the shared arguments it names


@dataclass(slots=True)
class ManagerSlot:
    """What the interchange knows about one connected manager (the process itself is
    ``_manager.Manager``): its capacity, the tasks it holds, when it was last heard."""

    mid: bytes
    block_id: str
    hostname: str
    workers: int
    capacity: int
    cores_per_worker: float = 1.0
    mem_per_worker: float = 0.0  # MB
    cores_total: float = _INF
    mem_total: float = _INF  # MB
    last_heard: float = 0.0
    idle_since: float | None = 0.0
    draining: bool = False
    held: bool = False
    used_cores: float = 0.0
    used_mem: float = 0.0
    inflight: dict[int, QueuedTask] = field(default_factory=dict)
    digests: set[bytes] = field(default_factory=set)
    info: dict[str, Any] = field(default_factory=dict)
    auto_prefetch: bool = False
    fast: bool = False
    service: float = 0.0  # moving average of dispatch-to-result time, seconds

    def limit(self) -> int:
        """How many tasks the manager may hold now."""
        if not self.auto_prefetch:
            return self.capacity
        return self.workers * (1 + (_AUTO_DEEP if self.fast else 1))

    def observe(self, service: float) -> None:
        """Fold one task's dispatch-to-result time into the automatic prefetch depth."""
        self.service = service if self.service == 0 else 0.8 * self.service + 0.2 * service
        if self.fast and self.service > _SLOW:
            self.fast = False
        elif not self.fast and self.service < _FAST:
            self.fast = True

    def cost(self, task: QueuedTask) -> tuple[float, float]:
        """Cores and memory (MB) a task takes on this manager's node."""
        cores = self.cores_per_worker if task.cores is None else task.cores
        mem = self.mem_per_worker if task.memory is None else task.memory
        return cores, mem

    def fits(self, task: QueuedTask) -> bool:
        """Whether the task's explicit cores/memory fit beside what the manager holds."""
        if task.cores is None and task.memory is None:
            return True
        cores, mem = self.cost(task)
        return (self.used_cores + cores <= self.cores_total + 1e-9
                and self.used_mem + mem <= self.mem_total + 1e-9)

    @property
    def accepting(self) -> bool:
        return not (self.draining or self.held) and len(self.inflight) < self.limit()


@dataclass(slots=True)
class Dispatch:
    """Action: send ``tasks`` to manager ``mid``, with the bodies of ``new_digests`` first."""

    mid: bytes
    tasks: list[QueuedTask]
    new_digests: list[bytes]


class DispatchCore:
    """Pending queue, connected managers and the tasks each one holds."""

    def __init__(self, heartbeat_threshold: float, by_block_id: bool = False) -> None:
        self.heartbeat_threshold = heartbeat_threshold
        self.by_block_id = by_block_id
        self.managers: dict[bytes, ManagerSlot] = {}
        self._pending: list[tuple[float, int, QueuedTask]] = []
        self._seq = itertools.count()
        self._free: dict[bytes, ManagerSlot] = {}  # accepting managers, in service order
        self.draining: set[bytes] = set()

    # -- events ----------------------------------------------------------------------------
    def task_arrived(self, task: QueuedTask) -> None:
        """Queue a task; call :meth:`dispatch` after a batch of events."""
        prio = _INF if task.priority is None else task.priority
        heapq.heappush(self._pending, (prio, next(self._seq), task))

    def manager_registered(self, mgr: ManagerSlot, now: float) -> None:
        """A manager said hello; it can take tasks from the next :meth:`dispatch`."""
        mgr.last_heard = mgr.idle_since = now
        self.managers[mgr.mid] = mgr
        self._refresh(mgr)
        if self.by_block_id:
            self._free = dict(sorted(self._free.items(), key=lambda kv: _block_key(kv[1])))

    def heard_from(self, mid: bytes, now: float) -> bool:
        """Any message from a manager; False if it is not (or no longer) registered."""
        mgr = self.managers.get(mid)
        if mgr is None:
            return False
        mgr.last_heard = now
        return True

    def results_arrived(self, mid: bytes, task_ids: Iterable[int], now: float) -> list[QueuedTask]:
        """Tasks finished on a manager; returns those it held (unknown ids are ignored)."""
        mgr = self.managers.get(mid)
        if mgr is None:
            return []
        mgr.last_heard = now
        done = []
        for tid in task_ids:
            task = mgr.inflight.pop(tid, None)
            if task is not None:
                mgr.observe(now - task.sent_at)
                cores, mem = mgr.cost(task)
                mgr.used_cores -= cores
                mgr.used_mem -= mem
                done.append(task)
        if not mgr.inflight:
            mgr.idle_since = now
        self._refresh(mgr)
        return done

    def manager_lost(self, mid: bytes) -> tuple[ManagerSlot | None, list[QueuedTask]]:
        """A manager died or went silent; returns it and the tasks it held (to be failed)."""
        mgr = self.managers.pop(mid, None)
        self._free.pop(mid, None)
        self.draining.discard(mid)
        if mgr is None:
            return None, []
        lost = list(mgr.inflight.values())
        mgr.inflight.clear()
        return mgr, lost

    def silent_managers(self, now: float) -> list[bytes]:
        """Managers not heard from for longer than the heartbeat threshold."""
        limit = now - self.heartbeat_threshold
        return [m.mid for m in self.managers.values() if m.last_heard < limit]

    def hold(self, mid: bytes) -> None:
        """Send this manager no more tasks (scale-in)."""
        mgr = self.managers.get(mid)
        if mgr is not None:
            mgr.held = True
            self._free.pop(mid, None)

    def drain(self, mid: bytes) -> None:
        """The manager asked to drain: no new tasks; it exits once empty."""
        mgr = self.managers.get(mid)
        if mgr is not None:
            mgr.draining = True
            self.draining.add(mid)
            self._free.pop(mid, None)

    def drained(self) -> list[bytes]:
        """Draining managers that hold no task any more (tell them to exit)."""
        return [mid for mid in self.draining if not self.managers[mid].inflight]

    def drop_pending(self) -> list[QueuedTask]:
        """Remove and return every task not yet sent to a manager."""
        tasks = [entry[2] for entry in self._pending]
        self._pending.clear()
        return tasks

    # -- decisions -------------------------------------------------------------------------
    def dispatch(self, now: float = 0.0) -> list[Dispatch]:
        """Assign pending tasks to accepting managers, one batch per manager.

        First every idle worker gets a task, then (if tasks remain) the prefetch slots fill:
        a manager never queues tasks while another manager has a worker with nothing to do.
        """
        batches: dict[bytes, list[QueuedTask]] = {}
        for prefetch in (False, True):
            for mgr in list(self._free.values()):
                if not self._pending:
                    break
                batch = self._fill(mgr, prefetch, now)
                if batch:
                    batches.setdefault(mgr.mid, []).extend(batch)
                    self._refresh(mgr)
                    if not self.by_block_id and mgr.mid in self._free:
                        self._free[mgr.mid] = self._free.pop(mgr.mid)  # rotate batches
        out = []
        for mid, batch in batches.items():
            mgr = self.managers[mid]
            new = []
            for task in batch:
                if task.digest not in mgr.digests:
                    mgr.digests.add(task.digest)
                    new.append(task.digest)
            out.append(Dispatch(mid, batch, new))
        return out

    def _fill(self, mgr: ManagerSlot, prefetch: bool, now: float) -> list[QueuedTask]:
        pending = self._pending
        batch: list[QueuedTask] = []
        skipped: list[tuple[float, int, QueuedTask]] = []
        room = (mgr.limit() if prefetch else mgr.workers) - len(mgr.inflight)
        while pending and room > 0 and len(skipped) < _SCAN_LIMIT:
            entry = heapq.heappop(pending)
            task = entry[2]
            if not mgr.fits(task):
                skipped.append(entry)
                continue
            cores, mem = mgr.cost(task)
            mgr.used_cores += cores
            mgr.used_mem += mem
            task.manager = mgr.mid
            task.sent_at = now
            mgr.inflight[task.task_id] = task
            batch.append(task)
            room -= 1
        for entry in skipped:
            heapq.heappush(pending, entry)
        if batch:
            mgr.idle_since = None
        return batch

    def _refresh(self, mgr: ManagerSlot) -> None:
        if mgr.accepting and mgr.mid in self.managers:
            self._free.setdefault(mgr.mid, mgr)
        else:
            self._free.pop(mgr.mid, None)

    # -- queries ---------------------------------------------------------------------------
    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def next_expiry(self) -> float:
        """The earliest time a manager could exceed the heartbeat threshold."""
        if not self.managers:
            return _INF
        return min(m.last_heard for m in self.managers.values()) + self.heartbeat_threshold

    def describe(self, now: float) -> list[dict[str, Any]]:
        """One dict per manager, for the MANAGERS command (Parsl's fields)."""
        return [{"manager": m.mid.decode(errors="replace"), "block_id": m.block_id,
                 "hostname": m.hostname, "worker_count": m.workers,
                 "tasks": len(m.inflight), "active": not m.held, "draining": m.draining,
                 "prefetch_depth": m.limit() - m.workers, "service_s": m.service,
                 "idle_duration": 0.0 if m.idle_since is None else now - m.idle_since,
                 **{k: m.info[k] for k in ("python_version", "pid", "worker_rss")
                    if k in m.info}}
                for m in self.managers.values()]


def _block_key(mgr: ManagerSlot) -> tuple[int, str]:
    return (int(mgr.block_id), "") if mgr.block_id.isdigit() else (1 << 62, mgr.block_id)

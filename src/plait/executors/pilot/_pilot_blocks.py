"""The pilot executor's block bookkeeping: managers per block, failures, drain, scale-in.

    interchange events (manager registered / lost) ─▶ blocks connected / lost
    block thread: provider status ─▶ BlockFailed for blocks that never connected, bad state
    scaling poller ─▶ scale_in: hold the most idle blocks, cancel each once it is empty
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from plait._lightfuture import LightFuture
from plait.executors._blocks import BlockProviderExecutor
from plait.executors._errors import BlockFailed
from plait.executors.pilot._client import InterchangeClient
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger("plait.executors.pilot._executor")


class PilotBlocks(BlockProviderExecutor):
    """Block handling for :class:`HighThroughputExecutor` (which sets these attributes)."""

    _client: InterchangeClient | None
    _tasks: dict[int, LightFuture[Any]]
    _connected_blocks: set[str]
    _managers: dict[str, str]
    _nodes: dict[str, tuple[Any, ...]]
    _failed_blocks: set[str]
    _draining_blocks: set[str]
    _to_cancel: list[str]
    _kick: threading.Event
    _stop: threading.Event
    _shut_down: bool
    max_workers_per_node: int | float | None
    mem_per_worker: float | None
    cores_per_worker: float
    available_accelerators: list[str]

    @property
    def logdir(self) -> str:
        raise NotImplementedError

    def _manager_event(self, event: tuple[Any, ...]) -> None:
        if self._shut_down:  # managers leaving because we asked them to
            return
        kind, mid, block_id = event[0], event[1], event[2]
        if kind == "registered":
            self._managers[mid] = block_id
            self._connected_blocks.add(block_id)
            log.info("manager %s of block %s connected (%s workers)", mid, block_id, event[3])
            # (manager id, block, host, cores, memory bytes, workers, python): see report()
            self._nodes[mid] = (mid, block_id, event[4], event[5], event[6], event[3], event[7])
            self.report("node", *self._nodes[mid], True)
        elif kind == "lost":
            self._managers.pop(mid, None)
            node = self._nodes.pop(mid, None)
            if node is not None:
                self.report("node", *node, False)
            if event[3] != "drained" and block_id not in self._managers.values():
                self._block_lost(block_id, event[3])
            self._wake()

    def _block_lost(self, block_id: str, why: str) -> None:
        """Every manager of a block was lost: mark it failed and make sure its job is gone."""
        with self._block_lock:
            if block_id in self._overlay:
                return
            status = JobStatus(JobState.FAILED, f"its managers were lost: {why}")
            self._overlay[block_id] = self._status[block_id] = status
            self._to_cancel.append(block_id)
        log.warning("block %s lost its managers (%s); cancelling its job", block_id, why)
        self._kick.set()  # the block thread cancels the job: providers may be slow

    # -- blocks --------------------------------------------------------------------------------
    def _watch_blocks(self) -> None:
        while not self._stop.is_set():
            with self._block_lock:
                cancel, self._to_cancel = self._to_cancel, []
            if cancel:
                self._cancel_blocks(cancel, JobState.FAILED, "its managers were lost")
            try:
                self.poll_status()
            except Exception:
                log.exception("checking the blocks of %s failed", self.label)
            interval = float(getattr(self.provider, "status_polling_interval", 5) or 1)
            self._kick.wait(interval)  # woken early by shutdown or a lost block
            self._kick.clear()

    def never_started_blocks(self, status: dict[str, JobStatus]) -> list[str]:
        return [b for b, s in status.items()
                if s.terminal and s.state != JobState.SCALED_IN
                and b not in self._connected_blocks]

    def block_failure(self, block_id: str, status: dict[str, JobStatus]) -> BlockFailed:
        st = status.get(block_id)
        if st is not None and not st.message:
            st.message = ("its job ended before any manager connected; see the block's "
                          f"stdout/stderr in {getattr(self.provider, 'script_dir', '')} and "
                          f"logs in {self.logdir}")
        return super().block_failure(block_id, status)

    def _handle_status(self, status: dict[str, JobStatus]) -> None:
        for block_id in self.never_started_blocks(status):
            if block_id in self._failed_blocks:
                continue
            self._failed_blocks.add(block_id)
            exc = self.block_failure(block_id, status)
            log.error("%s", exc)
            live = [b for b, s in status.items() if not s.terminal]
            if not live and not self._managers:
                self._fail_pending(exc)
            self._wake()
        self._finish_draining()

    def _fail_pending(self, exc: BaseException) -> None:
        """No block can run the waiting tasks: fail them (they never reached a manager)."""
        client = self._client
        if client is None:
            return
        try:
            dropped = client.command("DROP_PENDING", timeout=5)
        except Exception:
            return
        for tid in dropped:
            fut = self._tasks.pop(tid, None)
            if fut is not None:
                fut.set_exception(exc)

    @property
    def workers_per_node(self) -> int:
        counts: list[float] = [math.inf if self.max_workers_per_node is None
                               else self.max_workers_per_node]
        mem_node = getattr(self.provider, "mem_per_node", None)
        if mem_node and self.mem_per_worker:
            counts.append(math.floor(mem_node / self.mem_per_worker))
        cores_node = getattr(self.provider, "cores_per_node", None)
        if cores_node:
            counts.append(math.floor(cores_node / self.cores_per_worker))
        if self.available_accelerators:
            counts.append(len(self.available_accelerators))
        n = min(counts)
        return 1 if n == math.inf else max(1, int(n))

    def connected_managers(self) -> list[dict[str, Any]]:
        """One dict per connected manager (Parsl's fields)."""
        return self._client.command("MANAGERS") if self._client else []

    def connected_blocks(self) -> list[str]:
        """Every block id that ever had a manager connect."""
        return sorted(self._connected_blocks)

    def scale_in(self, blocks: int, max_idletime: float | None = None) -> list[str]:
        """Hold the most idle blocks' managers, then cancel each block once it has no task."""
        info: dict[str, list[float]] = {}
        with self._block_lock:
            for b, s in self._status.items():
                if not s.terminal and b not in self._draining_blocks:
                    info[b] = [0, math.inf]
        for m in self.connected_managers():
            entry = info.get(m["block_id"])
            if entry is not None and m["active"]:
                entry[0] += m["tasks"]
                entry[1] = min(entry[1], m["idle_duration"])
        order = sorted(info.items(), key=lambda kv: (-kv[1][1], kv[1][0]))
        if max_idletime is not None:
            order = [kv for kv in order if kv[1][0] == 0 and kv[1][1] > max_idletime]
        chosen = [b for b, _ in order[:blocks]]
        if chosen and self._client is not None:
            self._client.command("HOLD_BLOCKS", chosen)
            self._draining_blocks.update(chosen)
            self._finish_draining()
        return chosen

    def _finish_draining(self) -> None:
        if not self._draining_blocks or self._client is None:
            return
        busy = {m["block_id"] for m in self.connected_managers() if m["tasks"]}
        done = [b for b in self._draining_blocks if b not in busy]
        if done:
            self._draining_blocks.difference_update(done)
            self._cancel_blocks(done)

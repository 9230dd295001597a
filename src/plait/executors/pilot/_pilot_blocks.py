"""The pilot executor's block bookkeeping: managers per block, failures, drain, scale-in.

    interchange events (manager registered / lost) ─▶ blocks connected / lost
    block thread: provider status ─▶ BlockFailed for blocks that never connected, bad state
    block thread: tasks lost with a block's managers ─▶ provider.explain_loss(job) ─▶
        WalltimeExceeded / NodeFailure / BlockCancelled on their futures
    scaling poller ─▶ scale_in: hold the most idle blocks, cancel each once it is empty
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from plait._lightfuture import LightFuture
from plait.executors._blocks import BlockProviderExecutor
from plait.executors._errors import (
    BlockCancelled,
    ExecutorError,
    ManagerLost,
    NodeFailure,
    WalltimeExceeded,
    WorkerLost,
)
from plait.executors.pilot._client import InterchangeClient
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger("plait.executors.pilot._executor")

# How long a lost task waits for the scheduler to say why its block ended (Slurm shows a
# cancelled job as COMPLETING for up to KillWait, 30 s by default) before it fails as is.
_EXPLAIN_SECONDS = 40.0
_EXPLAIN_ALIVE_SECONDS = 3.0


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
    _lost_manager_block: dict[str, str]
    _unexplained: dict[str, tuple[float, list[tuple[LightFuture[Any], BaseException]]]]
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
            self._lost_manager_block[mid] = block_id
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

    # -- tasks lost with a block: ask the scheduler why ----------------------------------------
    def _task_lost(self, fut: LightFuture[Any], exc: BaseException) -> None:
        """A task's manager was lost (or its worker got SIGTERM): fail it now, or once the
        scheduler says why (walltime, node failure, cancelled) if its block is a job of a
        scheduler that can say."""
        block_id = None
        if isinstance(exc, ManagerLost):
            block_id = self._lost_manager_block.get(str(exc.manager_id))
        elif isinstance(exc, WorkerLost):  # worker ids are "<manager id>-<rank>"
            mid = str(exc.worker_id).rsplit("-", 1)[0]
            block_id = self._managers.get(mid) or self._lost_manager_block.get(mid)
        if (block_id is None or block_id not in self.blocks_to_job_id
                or not hasattr(self.provider, "explain_loss")):
            fut.set_exception(exc)
            return
        with self._block_lock:
            self._unexplained.setdefault(block_id, (time.monotonic(), []))[1].append((fut, exc))
        self._kick.set()

    def _explain_losses(self, give_up: bool = False) -> None:
        with self._block_lock:
            waiting = list(self._unexplained.items())
        for block_id, (since, _) in waiting:
            job_id = self.blocks_to_job_id[block_id]
            why = None
            if not give_up:
                try:
                    why = self.provider.explain_loss(job_id, lost_at=since)
                except Exception:
                    log.exception("asking why block %s (job %s) ended failed", block_id, job_id)
                waited = time.monotonic() - since
                # A worker killed by SIGTERM while its block's managers live on was not
                # ended by the scheduler: after a moment it fails as it is.
                alive = block_id in self._managers.values()
                if why is None and waited < (_EXPLAIN_ALIVE_SECONDS if alive
                                             else _EXPLAIN_SECONDS):
                    continue
            with self._block_lock:
                _, items = self._unexplained.pop(block_id)
            if why is not None:
                log.warning("block %s (job %s) ended under its tasks: %s", block_id, job_id,
                            why[1])
            for fut, exc in items:
                fut.set_exception(self._loss_error(block_id, job_id, why, exc))

    def _loss_error(self, block_id: str, job_id: str, why: tuple[str, str] | None,
                    exc: BaseException) -> BaseException:
        cause, words = why if why is not None else ("ended", "")
        error: BaseException
        if cause == "walltime":
            error = WalltimeExceeded(block_id, job_id, str(getattr(self.provider, "walltime",
                                                                   "?")), words)
        elif cause == "node_failure":
            error = NodeFailure(block_id, job_id, words)
        elif cause == "cancelled":
            error = BlockCancelled(block_id, job_id, words)
        else:
            return exc
        error.__cause__ = exc
        return error

    # -- blocks --------------------------------------------------------------------------------
    def _watch_blocks(self) -> None:
        while not self._stop.is_set():
            with self._block_lock:
                cancel, self._to_cancel = self._to_cancel, []
            if cancel:
                self._cancel_blocks(cancel, JobState.FAILED, "its managers were lost")
            if self._unexplained:
                self._explain_losses()
            try:
                self.poll_status()
            except Exception:
                log.exception("checking the blocks of %s failed", self.label)
            interval = float(getattr(self.provider, "status_polling_interval", 5) or 1)
            if self._unexplained:
                interval = min(interval, 0.5)  # the scheduler has not said why yet
            self._kick.wait(interval)  # woken early by shutdown or a lost block
            self._kick.clear()
        self._explain_losses(give_up=True)  # shutting down: fail them as they were lost

    def never_started_blocks(self, status: dict[str, JobStatus]) -> list[str]:
        return [b for b, s in status.items()
                if s.terminal and s.state != JobState.SCALED_IN
                and b not in self._connected_blocks]

    def block_failure(self, block_id: str, status: dict[str, JobStatus]) -> ExecutorError:
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
            self._unpin(tid)
            if fut is not None:
                fut.set_exception(exc)

    def _unpin(self, tid: int) -> None:
        """A task is done: its shared arguments may be dropped (see the executor)."""

    @property
    def workers_per_node(self) -> int:
        """How many workers each node's manager starts (from cores, memory and the maxima)."""
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
        from plait._version import __version__

        managers: list[dict[str, Any]] = (self._client.command("MANAGERS")
                                          if self._client else [])
        for record in managers:  # the interchange admits only managers of our version
            record.setdefault("parsl_version", __version__)
        return managers

    def connected_workers(self) -> int:
        """How many workers the connected managers run, in all."""
        return sum(int(m["worker_count"]) for m in self.connected_managers())

    def draining_blocks(self) -> int:
        """Live blocks whose every manager drains (walltime near): capacity that is ending.

        The scaling poller does not count them, so a replacement starts before they end.
        Blocks held for scale-in are not among them.
        """
        with self._block_lock:
            live = {b for b, s in self._status.items() if not s.terminal
                    and b not in self._draining_blocks}
        if not live or self._client is None:
            return 0
        draining: dict[str, bool] = {}
        for m in self.connected_managers():
            if m["block_id"] in live:
                draining[m["block_id"]] = draining.get(m["block_id"], True) and m["draining"]
        return sum(draining.values())

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

"""InMemoryBlockExecutor: an honest in-memory implementation of the block executor interface.

It keeps the interface's contract (outstanding, workers_per_node, poll_status, scale_out,
scale_in draining idle blocks, set_wakeup, bad state) with tasks as counters instead of
processes, and an in-memory provider whose blocks start at once. Tests drive the load and wait
on its Condition for the poller's actions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from plait.providers import ExecutionProvider, JobState, JobStatus


class InMemoryProvider(ExecutionProvider):
    """Blocks are records; submit starts them RUNNING, cancel ends them CANCELLED."""

    def __init__(self, init_blocks: int = 0, min_blocks: int = 0, max_blocks: int = 4,
                 parallelism: float = 1.0, nodes_per_block: int = 1) -> None:
        super().__init__(label="memory", init_blocks=init_blocks, min_blocks=min_blocks,
                         max_blocks=max_blocks, nodes_per_block=nodes_per_block,
                         parallelism=parallelism, status_polling_interval=0.0)
        self.jobs: dict[str, JobState] = {}
        self.submitted = 0

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        job_id = f"mem-{self.submitted}"
        self.submitted += 1
        self.jobs[job_id] = JobState.RUNNING
        return job_id

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        return [JobStatus(self.jobs.get(j, JobState.MISSING)) for j in job_ids]

    def cancel(self, job_ids: list[str]) -> list[bool]:
        for j in job_ids:
            self.jobs[j] = JobState.CANCELLED
        return [True] * len(job_ids)


@dataclass
class _Block:
    job_id: str
    running: int = 0          # tasks running on this block
    idle_since: float = 0.0
    draining: bool = False


class InMemoryBlockExecutor:
    """A block executor whose tasks are counters: queued → running on a block → done."""

    label = "inmemory"

    def __init__(self, provider: InMemoryProvider, workers_per_node: int = 2) -> None:
        self.provider = provider
        self._wpn = workers_per_node
        self.cond = threading.Condition()
        self.blocks: dict[str, _Block] = {}
        self.queued = 0
        self.scale_out_calls: list[int] = []
        self.scale_in_calls: list[tuple[int, float | None]] = []
        self.bad_state_is_set = False
        self.executor_exception: Exception | None = None
        self.fail_scale_out: Exception | None = None
        self._wakeup: Callable[[], None] = lambda: None
        self._next_block = 0

    # -- the block executor interface -----------------------------------------------------
    @property
    def outstanding(self) -> int:
        with self.cond:
            return self.queued + sum(b.running for b in self.blocks.values())

    @property
    def workers_per_node(self) -> int:
        return self._wpn

    def set_wakeup(self, callback: Callable[[], None]) -> None:
        self._wakeup = callback

    def poll_status(self) -> dict[str, JobStatus]:
        with self.cond:
            ids = dict(self.blocks)
        states = self.provider.status([b.job_id for b in ids.values()])
        return dict(zip(ids, states, strict=True))

    def scale_out(self, blocks: int) -> list[str]:
        if self.fail_scale_out is not None:
            raise self.fail_scale_out
        new = []
        with self.cond:
            self.scale_out_calls.append(blocks)
            for _ in range(blocks):
                block_id = str(self._next_block)
                self._next_block += 1
                job = self.provider.submit("worker", 1, f"inmemory.block-{block_id}")
                self.blocks[block_id] = _Block(job, idle_since=time.monotonic())
                new.append(block_id)
            self._dispatch()
            self.cond.notify_all()
        return new

    def scale_in(self, blocks: int, max_idletime: float | None = None) -> list[str]:
        now = time.monotonic()
        with self.cond:
            self.scale_in_calls.append((blocks, max_idletime))
            idle = [(bid, b) for bid, b in self.blocks.items() if b.running == 0
                    and (max_idletime is None or now - b.idle_since > max_idletime)]
            idle.sort(key=lambda item: item[1].idle_since)  # most idle first
            chosen = [bid for bid, _ in idle[:blocks]]
            for bid in chosen:
                self.blocks[bid].draining = True
                self.provider.cancel([self.blocks.pop(bid).job_id])
            self.cond.notify_all()
        return chosen

    # -- driving the load -----------------------------------------------------------------
    def submit_tasks(self, n: int) -> None:
        with self.cond:
            was_idle = self.queued + sum(b.running for b in self.blocks.values()) == 0
            self.queued += n
            self._dispatch()
        if was_idle:
            self._wakeup()

    def finish_tasks(self, n: int) -> None:
        """Finish n running tasks (on the fullest blocks first)."""
        went_idle = False
        with self.cond:
            for _ in range(n):
                block = max(self.blocks.values(), key=lambda b: b.running)
                assert block.running > 0, "no running task to finish"
                block.running -= 1
                if block.running == 0:
                    block.idle_since = time.monotonic()
                    went_idle = True
            self._dispatch()
            self.cond.notify_all()
        if went_idle:
            self._wakeup()

    def running_tasks(self) -> int:
        with self.cond:
            return sum(b.running for b in self.blocks.values())

    def _dispatch(self) -> None:
        for block in self.blocks.values():
            free = self._wpn * self.provider.nodes_per_block - block.running
            take = min(free, self.queued)
            if take > 0 and not block.draining:
                block.running += take
                self.queued -= take

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), "condition not reached in time"


@pytest.fixture
def make_executor() -> Iterator[Callable[..., InMemoryBlockExecutor]]:
    def make(workers_per_node: int = 2, **provider_args: float) -> InMemoryBlockExecutor:
        return InMemoryBlockExecutor(InMemoryProvider(**provider_args),  # type: ignore[arg-type]
                                     workers_per_node)
    yield make

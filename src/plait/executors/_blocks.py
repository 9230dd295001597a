"""BlockProviderExecutor: the part of an executor that obtains blocks from a provider.

    scaling poller ──scale_out/scale_in/poll_status──▶ executor ──submit/status/cancel──▶ provider
    executor ──wakeup callback──▶ scaling poller   (load changed: react now, not next period)

Block ids count up from "0". Each block's latest status comes from the provider (refreshed at
most every ``provider.status_polling_interval`` seconds) with what the executor knows laid over
it: a block it scaled in, a block whose managers were lost, a block that never connected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from plait._lightfuture import LightFuture
from plait._validate import check_callable
from plait.executors._base import Executor
from plait.executors._errors import (
    BadStateException,
    BlockFailed,
    ExecutorError,
    ScalingFailed,
    TooManyJobFailures,
)
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger(__name__)

_FAILED = frozenset({JobState.FAILED, JobState.MISSING})
ErrorHandler = Callable[[Any, dict[str, JobStatus]], None]


class TaskCount(int):
    """A count of tasks that can also be called: ``ex.outstanding`` (plait's property) and
    ``ex.outstanding()`` (Parsl's method) both give it."""

    def __call__(self) -> int:
        return int(self)


def noop_error_handler(executor: Any, status: dict[str, JobStatus],
                       threshold: int = 3) -> None:
    """Never put the executor in bad state because of block failures (``threshold`` is
    accepted, as Parsl's signature has it, and unused)."""


def simple_error_handler(executor: Any, status: dict[str, JobStatus],
                         threshold: int = 3) -> None:
    """Bad state once every block failed and at least ``max(1, init_blocks)`` never started.

    Blocks whose managers connected and were later lost do not count: those are replaced by
    the strategy. Blocks that end without ever connecting are what an endless scale-out of
    broken blocks looks like. ``threshold`` is accepted, as in Parsl's signature, and unused
    there too (use windowed_error_handler to fail after a number of blocks).
    """
    live = [s for s in status.values() if s.state != JobState.SCALED_IN]
    if not live or any(s.state not in _FAILED for s in live):
        return
    never = executor.never_started_blocks(status)
    needed = max(1, getattr(executor.provider, "init_blocks", 1))
    if len(never) >= needed:
        executor.set_bad_state_and_fail_all(_gave_up(executor.block_failure(never[-1], status)))


def windowed_error_handler(executor: Any, status: dict[str, JobStatus],
                           threshold: int = 3) -> None:
    """Bad state once the ``threshold`` most recent blocks all failed (blocks scaled in do
    not count); for executors whose early blocks may fail while later ones work."""
    def order(block_id: str) -> tuple[int, str]:
        return (int(block_id), "") if block_id.isdigit() else (1 << 62, block_id)

    recent = sorted((b for b, s in status.items() if s.state != JobState.SCALED_IN),
                    key=order)[-threshold:]
    if len(recent) >= threshold and all(status[b].state in _FAILED for b in recent):
        executor.set_bad_state_and_fail_all(_gave_up(executor.block_failure(recent[-1], status)))


def _gave_up(failure: ExecutorError) -> ExecutorError:
    """What every task fails with once the executor gives up after ``failure``.

    A block the scheduler refused keeps its ScalingFailed (the scheduler's own message, a
    configuration error); blocks that started and failed become TooManyJobFailures.
    """
    if isinstance(failure, ScalingFailed):
        return failure
    return TooManyJobFailures(*failure.args)


class BlockProviderExecutor(Executor):
    """An executor whose workers run in blocks submitted through ``provider``."""

    def __init__(self, provider: Any, block_error_handler: bool | ErrorHandler = True) -> None:
        self.provider = provider
        if not isinstance(block_error_handler, bool):
            check_callable("block_error_handler", block_error_handler, none=False,
                           owner=type(self).__name__)
        if block_error_handler is True:
            self.block_error_handler: ErrorHandler = simple_error_handler
        elif block_error_handler is False:
            self.block_error_handler = noop_error_handler
        else:
            self.block_error_handler = block_error_handler
        self.blocks_to_job_id: dict[str, str] = {}
        self._status: dict[str, JobStatus] = {}
        self._reported: dict[str, JobState] = {}  # the block states monitoring was told
        self._overlay: dict[str, JobStatus] = {}
        self._block_count = 0
        self._submit_failures: dict[str, BaseException] = {}  # block id -> why not submitted
        self._last_poll = -1e9
        self._block_lock = threading.RLock()
        self._wakeup: Callable[[], None] | None = None
        self._executor_exception: BaseException | None = None
        self._bad_state = threading.Event()

    # -- for subclasses ------------------------------------------------------------------
    @property
    def outstanding(self) -> int:
        """Tasks submitted and not finished (subclasses return a TaskCount, so that Parsl's
        ``outstanding()`` works too)."""
        raise NotImplementedError

    @property
    def workers_per_node(self) -> int:
        raise NotImplementedError

    def _get_launch_command(self, block_id: str) -> str:
        raise NotImplementedError

    def _fail_all(self, exc: BaseException) -> list[LightFuture[Any]]:
        """Fail every outstanding future with ``exc`` (subclasses hold the futures)."""
        raise NotImplementedError

    def never_started_blocks(self, status: dict[str, JobStatus]) -> list[str]:
        """Ids of terminal blocks that never connected (default: every failed block)."""
        return [b for b, s in status.items() if s.state in _FAILED]

    def block_failure(self, block_id: str, status: dict[str, JobStatus]) -> ExecutorError:
        """The error describing why a block failed, with its exit code and stderr tail.

        A block the scheduler refused (bad partition, walltime over the limit) gives
        ScalingFailed with the scheduler's message: a configuration error, not an
        infrastructure loss, so the kernel does not retry it on its own budget.
        """
        refused = self._submit_failures.get(block_id)
        if refused is not None:
            return ScalingFailed(self, f"block {block_id} could not be submitted: {refused}")
        st = status.get(block_id)
        reason = (st.message if st is not None and st.message else "its job ended")
        tail = (st.stderr_summary or "") if st is not None else ""
        return BlockFailed(block_id, reason, st.exit_code if st is not None else None,
                           tail[-2048:])

    # -- bad state -------------------------------------------------------------------------
    @property
    def bad_state_is_set(self) -> bool:
        """True once the executor is broken and refuses new tasks (Parsl's name)."""
        return self._bad_state.is_set()

    @property
    def executor_exception(self) -> BaseException | None:
        """The error that broke the executor, or None while it works."""
        return self._executor_exception

    def set_bad_state_and_fail_all(self, exc: BaseException) -> None:
        """Mark the executor broken: fail every outstanding task, refuse new ones with ``exc``."""
        if self._bad_state.is_set():
            return
        self._executor_exception = exc
        self._bad_state.set()
        log.error("executor %s is in a bad state: %s", self.label, exc)
        self._fail_all(exc)
        self._wake()

    def _check_bad_state(self) -> None:
        if self._bad_state.is_set():
            exc = self._executor_exception
            if isinstance(exc, Exception):
                raise exc
            raise BadStateException(self, str(exc))

    # -- scaling interface ---------------------------------------------------------------
    def set_wakeup(self, callback: Callable[[], None]) -> None:
        """Register the scaling poller's callback; called when load changes."""
        self._wakeup = callback

    def _wake(self) -> None:
        cb = self._wakeup
        if cb is not None:
            try:
                cb()
            except Exception:
                log.exception("scaling wake-up callback failed")

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Submit ``blocks`` new blocks; returns their ids (failed submissions are recorded)."""
        new = []
        for _ in range(blocks):
            with self._block_lock:
                block_id = str(self._block_count)
                self._block_count += 1
            command = self._get_launch_command(block_id)
            try:
                job_id = self.provider.submit(command, 1, f"plait.{self.label}.block-{block_id}")
            except Exception as exc:
                log.error("block %s could not be submitted: %s", block_id, exc)
                with self._block_lock:
                    self._submit_failures[block_id] = exc
                    self._overlay[block_id] = JobStatus(
                        JobState.FAILED, f"submitting the block failed: {exc}")
                    self._status[block_id] = self._overlay[block_id]
                    # the next poll_status() runs the error handler, whatever the provider's
                    # status_polling_interval (60 s by default): a refusal must not loop
                    self._last_poll = -1e9
                self.report("block", block_id, None, JobState.FAILED.name)
                new.append(block_id)
                continue
            with self._block_lock:
                self.blocks_to_job_id[block_id] = job_id
                self._status[block_id] = JobStatus(JobState.PENDING)
                self._reported[block_id] = JobState.PENDING
            log.info("block %s submitted as job %s", block_id, job_id)
            self.report("block", block_id, str(job_id), JobState.PENDING.name)
            new.append(block_id)
        return new

    def _refresh(self) -> dict[str, JobStatus]:
        with self._block_lock:
            ids = [(b, j) for b, j in self.blocks_to_job_id.items() if b not in self._overlay
                   or not self._overlay[b].terminal]
        if ids:
            try:
                statuses = self.provider.status([j for _, j in ids])
            except Exception:
                log.exception("provider status failed; keeping the last known block status")
                statuses = [self._status.get(b, JobStatus(JobState.UNKNOWN)) for b, _ in ids]
            with self._block_lock:
                for (b, _), st in zip(ids, statuses, strict=True):
                    self._status[b] = st
        with self._block_lock:
            self._status.update(self._overlay)
            status = dict(self._status)
        if self.monitoring_events is not None:  # each change of a block's state, once
            for b, st in status.items():
                if self._reported.get(b) != st.state:
                    self._reported[b] = st.state
                    self.report("block", b, self.blocks_to_job_id.get(b), st.state.name)
        return status

    def poll_status(self) -> dict[str, JobStatus]:
        """Block id -> latest status; refreshes from the provider at most once per interval."""
        interval = float(getattr(self.provider, "status_polling_interval", 5) or 0)
        now = time.monotonic()
        with self._block_lock:
            due = now - self._last_poll >= interval
            if due:
                self._last_poll = now
        if not due:
            with self._block_lock:
                return dict(self._status)
        status = self._refresh()
        self.block_error_handler(self, status)  # first: bad state fails tasks with its error
        self._handle_status(status)
        return status

    def _handle_status(self, status: dict[str, JobStatus]) -> None:
        """Hook: react to new block states (the pilot executor fails waiting tasks here)."""

    def status(self) -> dict[str, JobStatus]:
        """Parsl's name for :meth:`poll_status`."""
        return self.poll_status()

    def scale_in(self, blocks: int, max_idletime: float | None = None) -> list[str]:
        """Cancel the first ``blocks`` non-terminal blocks (subclasses choose better)."""
        with self._block_lock:
            chosen = [b for b, s in self._status.items() if not s.terminal][:blocks]
        self._cancel_blocks(chosen)
        return chosen

    def _cancel_blocks(self, block_ids: list[str], state: JobState = JobState.SCALED_IN,
                       message: str = "scaled in") -> None:
        with self._block_lock:
            jobs = [self.blocks_to_job_id[b] for b in block_ids if b in self.blocks_to_job_id]
            for b in block_ids:
                if state == JobState.SCALED_IN or b not in self._overlay:  # keep the why
                    self._overlay[b] = JobStatus(state, message)
                self._status[b] = self._overlay[b]
        if jobs:
            try:
                self.provider.cancel(jobs)
            except Exception:
                log.exception("cancelling jobs %s failed", jobs)

    def cancel_all_blocks(self) -> None:
        """Cancel every block that is not known to have ended (shutdown)."""
        with self._block_lock:
            jobs = [j for b, j in self.blocks_to_job_id.items()
                    if not (b in self._overlay and self._overlay[b].state == JobState.SCALED_IN)]
        if jobs:
            try:
                self.provider.cancel(jobs)
            except Exception:
                log.exception("cancelling jobs %s at shutdown failed", jobs)
        # A provider that finds what it created by tag (the cloud ones) also deletes here
        # what never reported back (an instance whose create call timed out).
        close = getattr(self.provider, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing provider %s at shutdown failed",
                              getattr(self.provider, "label", self.provider))

"""JobStatusPoller: one thread that applies the scaling Strategy to block executors.

    executors ──set_wakeup(callback)──▶ Event ◀── close()
    poller thread: wait(Event, deadline = min(strategy_period, next idle-timer expiry))
        → for each executor: poll_status() → decide() → scale_out(n) / scale_in(n, max_idletime)

Executors wake the thread when their load changes (tasks arrive while idle, a block ends or
goes idle), so scaling reacts at once; the period is only the fallback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from plait.providers import TERMINAL_STATES
from plait.scaling._strategy import BlockLoad, Decision, check_strategy, decide

log = logging.getLogger(__name__)

_JOIN_SECONDS = 10.0


@dataclass(slots=True)
class _Watched:
    executor: Any
    idle_since: float | None = None
    recheck_at: float | None = None


class Strategy:
    """Applies one scaling strategy to block executors, keeping each one's idle timer
    (Parsl's ``Strategy``; the decision itself is :func:`decide`).

    Args:
        strategy: ``"simple"``, ``"htex_auto_scale"``, or ``"none"``/None (init blocks only).
        max_idletime: seconds an executor has no tasks before surplus blocks are removed.
    """

    def __init__(self, *, strategy: str | None, max_idletime: float) -> None:
        self.strategy = check_strategy(strategy)
        self.max_idletime = max_idletime
        self._timers: dict[int, _Watched] = {}

    def add_executors(self, executors: Iterable[Any]) -> None:
        """Start keeping idle timers for ``executors``."""
        for ex in executors:
            self._timers.setdefault(id(ex), _Watched(ex))

    def strategize(self, executors: Iterable[Any],
                   stopped: Callable[[], bool] = lambda: False) -> float | None:
        """Refresh each executor's blocks and scale it; return the earliest time (monotonic)
        at which an idle timer expires, if any. ``stopped()`` true skips what is left."""
        recheck: float | None = None
        for ex in executors:
            if stopped():
                break
            try:
                at = self._scale_one(self._timers.setdefault(id(ex), _Watched(ex)), stopped)
            except Exception:
                log.exception("scaling %s failed; will retry next round",
                              getattr(ex, "label", ex))
                continue
            if at is not None and (recheck is None or at < recheck):
                recheck = at
        return recheck

    def _scale_one(self, watched: _Watched, stopped: Callable[[], bool]) -> float | None:
        ex = watched.executor
        if ex.bad_state_is_set:
            watched.recheck_at = None
            return None
        statuses = ex.poll_status()
        active = sum(1 for s in statuses.values() if s.state not in TERMINAL_STATES)
        draining = getattr(ex, "draining_blocks", None)
        if draining is not None:  # blocks near their walltime are ending: not capacity
            active -= draining()
        provider = ex.provider
        load = BlockLoad(
            outstanding=ex.outstanding, active_blocks=active,
            workers_per_node=max(1, ex.workers_per_node),
            nodes_per_block=provider.nodes_per_block, parallelism=provider.parallelism,
            min_blocks=provider.min_blocks, max_blocks=provider.max_blocks)
        now = time.monotonic()
        decision = decide(self.strategy, load, watched.idle_since, now, self.max_idletime)
        watched.idle_since, watched.recheck_at = decision.idle_since, decision.recheck_at
        if not stopped():
            _apply(ex, decision, load)
        return watched.recheck_at


def _apply(ex: Any, decision: Decision, load: BlockLoad) -> None:
    if decision.scale_out:
        log.info("scaling out %s by %d block(s): %s", ex.label, decision.scale_out,
                 decision.reason)
        ex.scale_out(decision.scale_out)
    elif decision.scale_in:
        removed = ex.scale_in(decision.scale_in, max_idletime=decision.max_idletime)
        if removed:
            log.info("scaled in %s by %d block(s) %s: %s", ex.label, len(removed), removed,
                     decision.reason)
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("%s: %s (%s)", ex.label, decision.reason, load)


class JobStatusPoller:
    """Polls block executors and scales them by a strategy (Parsl's ``JobStatusPoller``).

    Args:
        executors: block executors (anything with ``provider``, ``outstanding``,
            ``workers_per_node``, ``poll_status()``, ``scale_out()``, ``scale_in()``).
        strategy: ``"simple"``, ``"htex_auto_scale"``, or ``"none"``/None (init blocks only).
        strategy_period: longest time between two decisions, in seconds.
        max_idletime: seconds an executor has no tasks before surplus blocks are removed.
    """

    def __init__(
        self, executors: Iterable[Any] = (), strategy: str | None = "simple",
        strategy_period: float = 5.0, max_idletime: float = 120.0,
    ) -> None:
        self._strategy = Strategy(strategy=strategy, max_idletime=max_idletime)
        self.strategy, self.max_idletime = self._strategy.strategy, max_idletime
        self.strategy_period = strategy_period
        self._executors: list[Any] = []
        self._recheck_at: float | None = None
        self._lock = threading.Lock()  # guards _executors (the poller thread alone scales)
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.add_executors(executors)

    def add_executors(self, executors: Iterable[Any]) -> None:
        """Start scaling more executors; each gets a wake-up callback."""
        added = list(executors)
        with self._lock:
            self._executors.extend(added)
            self._strategy.add_executors(added)
        for ex in added:
            set_wakeup = getattr(ex, "set_wakeup", None)
            if set_wakeup is not None:
                set_wakeup(self._wake.set)
        self._wake.set()

    def start(self) -> None:
        """Start the polling thread (first decision at once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="plait-scaling", daemon=True)
        self._thread.start()

    def close(self, timeout: float = _JOIN_SECONDS) -> None:
        """Stop scaling now: no decision is applied after this returns (or the join times out).

        Idempotent. A scale_out already in progress (a scheduler command) is waited for up to
        ``timeout`` seconds.
        """
        self._closed.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("scaling thread still busy after %.0f s (a provider command is "
                            "slow); it stops after its current call", timeout)

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.clear()
            self.poll()
            self._wake.wait(self._next_timeout())

    def _next_timeout(self) -> float:
        now = time.monotonic()
        deadline = now + self.strategy_period
        if self._recheck_at is not None:
            deadline = min(deadline, self._recheck_at)
        # never spin: the idle check is "more than max_idletime", so wake just after it
        return max(deadline - now, 0.0) + 0.005

    def poll(self) -> None:
        """Run one round: refresh each executor's blocks and apply the strategy's decision."""
        with self._lock:
            executors = list(self._executors)
        self._recheck_at = self._strategy.strategize(executors, self._closed.is_set)

"""How many blocks an executor needs now: a pure function of its load (Parsl's strategies).

``decide()`` takes what the poller observed (tasks, blocks, shape, idle timer, clock) and
returns a :class:`Decision`. It does no I/O and reads no clock, so every case is unit-tested.

Differences from Parsl, on purpose:
- Blocks in any non-terminal state count as active (Parsl counts only PENDING and RUNNING,
  so blocks a scheduler reported as UNKNOWN or HELD let it exceed max_blocks, #2255).
- With "simple"/"htex_auto_scale", an executor below ``min_blocks`` (blocks ended) is topped
  up to it.
- The decision says when to look again (the idle timer's expiry), so the poller sleeps until
  then instead of polling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from plait._errors import ConfigurationError

StrategyName = Literal["none", "simple", "htex_auto_scale"]
STRATEGIES: tuple[str, ...] = ("none", "simple", "htex_auto_scale")


def check_strategy(strategy: str | None) -> StrategyName:
    """Normalise ``None`` to ``"none"``; raise ConfigurationError for unknown names."""
    if strategy is None:
        return "none"
    if strategy not in STRATEGIES:
        raise ConfigurationError("strategy", strategy, f"one of None, {', '.join(STRATEGIES)}")
    return strategy  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BlockLoad:
    """One executor's load and shape, as observed by the poller."""

    outstanding: int          # tasks submitted and not finished
    active_blocks: int        # blocks not in a terminal state (pending, running, held, …)
    workers_per_node: int
    nodes_per_block: int
    parallelism: float        # 0..1: wanted slots per task
    min_blocks: int
    max_blocks: int


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one executor now."""

    scale_out: int = 0
    scale_in: int = 0
    #: with scale_in: only blocks idle longer than this (None: any block)
    max_idletime: float | None = None
    #: the executor's idle timer after this decision (None: not idle)
    idle_since: float | None = None
    #: when to decide again even if nothing happens (the idle timer's expiry)
    recheck_at: float | None = None
    reason: str = ""


def decide(
    strategy: StrategyName, load: BlockLoad, idle_since: float | None, now: float,
    max_idletime: float,
) -> Decision:
    """Parsl's ``simple``/``htex_auto_scale`` algorithm (``none``: never acts).

    Args:
        strategy: "none", "simple" or "htex_auto_scale".
        load: the executor's current load and block shape.
        idle_since: when the executor was first seen with no tasks (None if busy).
        now: the current time on the same clock as ``idle_since``.
        max_idletime: seconds without tasks before surplus blocks are removed.
    """
    if strategy == "none":
        return Decision(reason="strategy none: init blocks only")
    tasks, blocks = load.outstanding, load.active_blocks
    slots_per_block = load.workers_per_node * load.nodes_per_block
    slots = blocks * slots_per_block

    if blocks < load.min_blocks:
        return Decision(scale_out=load.min_blocks - blocks,
                        idle_since=None if tasks else idle_since,
                        reason=f"below min_blocks={load.min_blocks}")

    if tasks == 0:  # Parsl's case 1: idle; remove surplus blocks after max_idletime
        if blocks <= load.min_blocks:
            return Decision(reason="idle at min_blocks")
        if idle_since is None:
            return Decision(idle_since=now, recheck_at=now + max_idletime,
                            reason="idle: timer started")
        if now - idle_since > max_idletime:
            return Decision(scale_in=blocks - load.min_blocks, idle_since=idle_since,
                            reason=f"idle for more than {max_idletime:g} s")
        return Decision(idle_since=idle_since, recheck_at=idle_since + max_idletime,
                        reason="idle: waiting for max_idletime")

    # There are tasks: the idle timer stops.
    if slots / tasks < load.parallelism:  # case 2: too few slots
        if blocks >= load.max_blocks:
            return Decision(reason=f"overloaded but at max_blocks={load.max_blocks}")
        wanted_slots = math.ceil(tasks * load.parallelism - slots)
        wanted = math.ceil(wanted_slots / slots_per_block)
        return Decision(scale_out=min(wanted, load.max_blocks - blocks),
                        reason=f"{tasks} tasks for {slots} slots")
    if slots == 0:  # case 4a: parallelism 0 must still start one block (Parsl #97)
        if blocks < load.max_blocks:
            return Decision(scale_out=1, reason="tasks but no slots (parallelism 0)")
        return Decision(reason="tasks, no slots, at max_blocks")
    if strategy == "htex_auto_scale" and slots > tasks and blocks > load.min_blocks:
        # case 4b: more slots than tasks; remove blocks that are idle and empty
        surplus_slots = math.floor(slots - tasks * load.parallelism)
        surplus = min(surplus_slots // slots_per_block, blocks - load.min_blocks)
        if surplus > 0:
            # blocks not idle long enough yet are kept; look again when they may be
            return Decision(scale_in=surplus, max_idletime=max_idletime,
                            recheck_at=now + max_idletime,
                            reason=f"{slots} slots for {tasks} tasks")
    return Decision(reason="load matches blocks")  # case 3

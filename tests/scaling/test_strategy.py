"""decide(): every case of Parsl's simple / htex_auto_scale algorithm, no threads, no clock."""

from __future__ import annotations

import pytest

from plait._errors import ConfigurationError
from plait.scaling import BlockLoad, Decision, decide
from plait.scaling._strategy import check_strategy


def load(tasks: int = 0, blocks: int = 0, wpn: int = 1, nodes: int = 1, par: float = 1.0,
         lo: int = 0, hi: int = 10) -> BlockLoad:
    return BlockLoad(outstanding=tasks, active_blocks=blocks, workers_per_node=wpn,
                     nodes_per_block=nodes, parallelism=par, min_blocks=lo, max_blocks=hi)


def simple(lo: BlockLoad, idle_since: float | None = None, now: float = 1000.0,
           max_idle: float = 120.0) -> Decision:
    return decide("simple", lo, idle_since, now, max_idle)


def htex(lo: BlockLoad, idle_since: float | None = None, now: float = 1000.0,
         max_idle: float = 120.0) -> Decision:
    return decide("htex_auto_scale", lo, idle_since, now, max_idle)


def test_none_never_acts() -> None:
    for lo in (load(tasks=100), load(blocks=5), load(tasks=0, blocks=0, lo=3)):
        d = decide("none", lo, None, 0.0, 1.0)
        assert (d.scale_out, d.scale_in, d.idle_since) == (0, 0, None)


@pytest.mark.parametrize(("tasks", "blocks", "wpn", "nodes", "par", "hi", "expect"), [
    (10, 0, 4, 1, 1.0, 10, 3),    # ceil(10/4)
    (10, 1, 4, 1, 1.0, 10, 2),    # 6 missing slots → 2 blocks
    (10, 0, 2, 2, 1.0, 10, 3),    # 4 slots per block (2 workers x 2 nodes)
    (100, 0, 1, 1, 1.0, 5, 5),    # capped by max_blocks
    (100, 3, 1, 1, 1.0, 5, 2),    # capped by the room left
    (10, 0, 1, 1, 0.5, 10, 5),    # parallelism 0.5: half a slot per task
    (10, 2, 1, 1, 0.5, 10, 3),
    (1, 0, 8, 1, 0.1, 10, 1),     # ceil(0.1) = 1 slot → 1 block
])
def test_overloaded_scales_out(tasks: int, blocks: int, wpn: int, nodes: int, par: float,
                               hi: int, expect: int) -> None:
    d = simple(load(tasks, blocks, wpn, nodes, par, hi=hi))
    assert (d.scale_out, d.scale_in) == (expect, 0)
    assert d.idle_since is None  # tasks reset the idle timer
    assert decide("htex_auto_scale", load(tasks, blocks, wpn, nodes, par, hi=hi), None, 0,
                  1).scale_out == expect


def test_overloaded_at_max_blocks_does_nothing() -> None:
    d = simple(load(tasks=100, blocks=4, hi=4))
    assert (d.scale_out, d.scale_in) == (0, 0)
    assert "max_blocks" in d.reason


def test_enough_slots_does_nothing() -> None:
    assert simple(load(tasks=4, blocks=1, wpn=4)) == Decision(reason="load matches blocks")
    assert simple(load(tasks=2, blocks=3, wpn=4)).scale_in == 0  # simple never scales in here


def test_parallelism_zero_starts_one_block() -> None:
    # Parsl #97: with parallelism 0 the overload test (slots/tasks < 0) never holds
    d = simple(load(tasks=50, blocks=0, par=0.0))
    assert d.scale_out == 1
    assert simple(load(tasks=50, blocks=1, par=0.0)).scale_out == 0
    assert simple(load(tasks=50, blocks=0, par=0.0, hi=0)).scale_out == 0


def test_idle_timer_starts_then_scales_in_after_max_idletime() -> None:
    lo = load(tasks=0, blocks=3, lo=1)
    first = simple(lo, idle_since=None, now=100.0, max_idle=10.0)
    assert (first.scale_in, first.idle_since, first.recheck_at) == (0, 100.0, 110.0)
    waiting = simple(lo, idle_since=100.0, now=110.0, max_idle=10.0)  # not *more* than 10 s
    assert (waiting.scale_in, waiting.idle_since, waiting.recheck_at) == (0, 100.0, 110.0)
    due = simple(lo, idle_since=100.0, now=110.5, max_idle=10.0)
    assert due.scale_in == 2 and due.max_idletime is None  # down to min_blocks, any block
    assert htex(lo, idle_since=100.0, now=110.5, max_idle=10.0).scale_in == 2


def test_idle_timer_resets_when_tasks_arrive() -> None:
    d = simple(load(tasks=1, blocks=1), idle_since=100.0, now=500.0, max_idle=10.0)
    assert d.idle_since is None and d.scale_in == 0
    # idle again later: the timer starts from the new time, not the old one
    again = simple(load(tasks=0, blocks=1), idle_since=d.idle_since, now=600.0, max_idle=10.0)
    assert (again.idle_since, again.scale_in) == (600.0, 0)


def test_idle_at_min_blocks_keeps_blocks() -> None:
    d = simple(load(tasks=0, blocks=2, lo=2), idle_since=0.0, now=1e6, max_idle=1.0)
    assert (d.scale_in, d.scale_out) == (0, 0)
    assert simple(load(tasks=0, blocks=0)).idle_since is None


def test_min_blocks_floor_is_topped_up() -> None:
    d = simple(load(tasks=0, blocks=1, lo=3))
    assert d.scale_out == 2
    assert htex(load(tasks=5, blocks=0, lo=2, wpn=10)).scale_out == 2


def test_htex_scales_in_surplus_slots_of_idle_blocks() -> None:
    d = htex(load(tasks=2, blocks=5, wpn=2, lo=1), now=50.0, max_idle=30.0)
    # 10 slots for 2 tasks: 8 surplus slots → 4 blocks, capped at blocks - min_blocks = 4
    assert (d.scale_in, d.max_idletime, d.recheck_at) == (4, 30.0, 80.0)
    assert htex(load(tasks=2, blocks=5, wpn=2, lo=3)).scale_in == 2
    assert htex(load(tasks=2, blocks=5, wpn=2, par=0.5)).scale_in == 4  # floor(9/2)
    assert htex(load(tasks=3, blocks=2, wpn=2)).scale_in == 0  # 1 surplus slot < 1 block
    assert htex(load(tasks=2, blocks=1, wpn=8)).scale_in == 0  # 6 surplus slots < 1 block
    assert htex(load(tasks=2, blocks=1, wpn=8, lo=1)).scale_in == 0


def test_unknown_strategy_is_rejected() -> None:
    assert check_strategy(None) == "none"
    assert check_strategy("htex_auto_scale") == "htex_auto_scale"
    with pytest.raises(ConfigurationError, match="htex_auto_scale"):
        check_strategy("aggressive")

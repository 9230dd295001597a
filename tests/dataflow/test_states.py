"""The state table: every declared move is legal, everything else is refused."""

from __future__ import annotations

import pytest

from plait.dataflow._states import (
    FINAL_FAILURE_STATES,
    FINAL_STATES,
    NEXT,
    InvalidTransition,
    States,
    is_legal,
)
from plait.dataflow.dflow import DataFlowKernel

PARSL_VALUES = {"pending": 0, "running": 2, "exec_done": 3, "failed": 4, "dep_fail": 5,
                "launched": 7, "fail_retryable": 8, "memo_done": 9, "joining": 10,
                "running_ended": 11}


def test_names_and_values_are_parsls() -> None:
    for name, value in PARSL_VALUES.items():
        assert States[name] == value
    assert str(States.pending) == "States.pending"


@pytest.mark.parametrize("old,new", [(o, n) for o, ns in NEXT.items() for n in ns])
def test_declared_moves_are_legal(old: States, new: States) -> None:
    assert is_legal(old, new)


@pytest.mark.parametrize("old", list(States))
def test_undeclared_moves_are_illegal(old: States) -> None:
    for new in States:
        assert is_legal(old, new) == (new in NEXT.get(old, frozenset()))


def test_final_states_have_no_way_out() -> None:
    for state in FINAL_STATES:
        assert not NEXT.get(state)
    assert FINAL_FAILURE_STATES <= FINAL_STATES
    assert {States.exec_done, States.memo_done} == FINAL_STATES - FINAL_FAILURE_STATES


def test_invalid_transition_says_it_is_a_bug() -> None:
    err = InvalidTransition(7, States.exec_done, States.pending, "test")
    assert "task 7" in str(err) and "exec_done -> pending" in str(err)
    assert "bug" in str(err)


def test_invalid_transition_is_never_caught_and_ignored() -> None:
    """No code catches it by name; the kernel's catch-all hands it to the task's future."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "plait"
    pattern = re.compile(r"except\s*(\(.*)?(InvalidTransition|InternalConsistencyError)")
    offenders = [f"{p}:{n}" for p in src.rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders


def test_a_kernel_bug_fails_the_task_with_its_story(
    dfk: DataFlowKernel, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import plait.dataflow._kernel as kernel_module
    from plait import python_app
    from plait.dataflow._decisions import Finish

    monkeypatch.setattr(kernel_module, "after_try", lambda task, fu: Finish(States.pending, "bug"))
    fut = python_app(lambda: 1, data_flow_kernel=dfk)()
    err = fut.exception(timeout=30)
    assert isinstance(err, InvalidTransition)
    assert err.story == (("pending", "launched", "handed to its executor"),)
    assert "launched -> pending (bug)" in str(err) and fut.task_record.state is States.failed

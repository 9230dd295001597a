"""Dependency failures: named, with the root cause, never run; deep graphs never recurse."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import pytest

from plait import python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import DependencyError


@python_app
def boom(x: int = 0) -> int:
    raise ZeroDivisionError("root problem")


@python_app
def inc(x: int) -> int:
    return x + 1


def test_dependency_error_names_task_app_and_root_cause(dfk: DataFlowKernel) -> None:
    first = boom()
    second = inc(first)
    third = inc(second)
    with pytest.raises(DependencyError) as info:
        third.result(timeout=10)
    err = info.value
    text = str(err)
    assert f"task {third.tid} (inc)" in text
    assert f"task {second.tid} (inc)" in text
    assert f"task {first.tid} (boom)" in text
    assert "ZeroDivisionError: root problem" in text
    assert err.__cause__ is first.exception()
    assert err.root_cause is first.exception()
    assert isinstance(err.dependent_exceptions_tids[0][0], DependencyError)
    assert third.task_status() == "dep_fail"


def test_failed_dependency_is_never_run(dfk: DataFlowKernel, tmp_path: Any) -> None:
    marker = tmp_path / "ran"

    @python_app
    def touch(x: int) -> None:
        marker.write_text("ran")

    with pytest.raises(DependencyError):
        touch(boom()).result(timeout=10)
    assert not marker.exists()


def test_dependency_error_in_inputs_and_several_failures(dfk: DataFlowKernel) -> None:
    @python_app
    def total(inputs: list[int] = ()) -> int:  # type: ignore[assignment]
        return sum(inputs)

    a, b = boom(), boom()
    with pytest.raises(DependencyError) as info:
        total(inputs=[a, inc(1), b]).result(timeout=10)
    described = [d for _, d in info.value.dependent_exceptions_tids]
    assert described == [f"task {a.tid} (boom)", f"task {b.tid} (boom)"]


def test_long_chain_runs_without_deep_recursion(dfk: DataFlowKernel) -> None:
    depths: list[int] = []

    @python_app
    def step(x: int) -> int:
        depths.append(len(traceback.extract_stack()))
        return x + 1

    fut = step(0)
    for _ in range(2000):
        fut = step(fut)
    assert fut.result(timeout=60) == 2001
    assert max(depths) < 50


def test_long_failure_chain_does_not_overflow_the_stack(dfk: DataFlowKernel) -> None:
    limit = sys.getrecursionlimit()
    fut = boom()
    for _ in range(limit * 2):
        fut = inc(fut)
    with pytest.raises(DependencyError):
        fut.result(timeout=60)

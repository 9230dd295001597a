"""Join apps: a body that returns futures completes with their results."""

from __future__ import annotations

from typing import Any

import pytest

from plait import join_app, python_app
from plait.dataflow.dflow import DataFlowKernel
from plait.errors import JoinError


@python_app
def double(x: int) -> int:
    return 2 * x


@python_app
def fail(x: int) -> int:
    raise RuntimeError(f"inner {x}")


@join_app
def one(x: int) -> Any:
    return double(x)


@join_app
def many(n: int) -> Any:
    return [double(i) for i in range(n)]


@join_app
def fib(n: int) -> Any:
    if n < 2:
        return double(n / 2)  # a future either way
    return add(fib(n - 1), fib(n - 2))


@python_app
def add(a: float, b: float) -> float:
    return a + b


def test_single_and_list(dfk: DataFlowKernel) -> None:
    assert one(4).result(timeout=10) == 8
    assert many(4).result(timeout=10) == [0, 2, 4, 6]
    assert many(0).result(timeout=10) == []


def test_recursive(dfk: DataFlowKernel) -> None:
    assert fib(8).result(timeout=30) == 21


def test_inner_failure_is_a_join_error(dfk: DataFlowKernel) -> None:
    @join_app
    def mixed() -> Any:
        return [double(1), fail(2)]

    with pytest.raises(JoinError, match="Join failure") as info:
        mixed().result(timeout=10)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "inner 2" in str(info.value)


def test_body_returning_a_value_is_a_type_error(dfk: DataFlowKernel) -> None:
    @join_app
    def wrong() -> int:
        return 3

    with pytest.raises(TypeError, match="must return a Future or a list of Futures, not int"):
        wrong().result(timeout=10)

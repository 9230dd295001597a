"""Finding dependencies in arguments and replacing them by results, without a kernel."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from plait.dataflow._deps import DEEP_DEPENDENCY_RESOLVER, gather, unwrap


def done(value: Any) -> Future[Any]:
    f: Future[Any] = Future()
    f.set_result(value)
    return f


def test_shallow_finds_args_kwargs_and_inputs_only() -> None:
    a, b, c, hidden = done(1), done(2), done(3), done(4)
    found = gather(None, (a, 5), {"x": b, "inputs": [c, 6], "nested": [hidden]})
    assert found == [a, b, c]


def test_shallow_unwrap_replaces_futures() -> None:
    args, kwargs = unwrap(None, (done(1), 2), {"x": done(3), "inputs": [done(4), 5]})
    assert args == (1, 2)
    assert kwargs == {"x": 3, "inputs": [4, 5]}


def test_deep_finds_and_rebuilds_nested_containers() -> None:
    a, b, c = done("a"), done("b"), done("c")
    arg = {"k": [a, (b,)], c: 1}
    assert set(gather(DEEP_DEPENDENCY_RESOLVER, (arg,), {})) == {a, b, c}
    (out,), _ = unwrap(DEEP_DEPENDENCY_RESOLVER, (arg,), {})
    assert out == {"k": ["a", ("b",)], "c": 1}

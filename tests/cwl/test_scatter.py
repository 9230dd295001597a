"""Scatter methods as pure functions: which jobs a scatter makes, how outputs nest."""

from __future__ import annotations

import pytest

from plait.cwl import CWLError
from plait.cwl._scatter import nest, split


def test_dotproduct_pairs_elements() -> None:
    jobs, dims = split({"a": [1, 2], "b": ["x", "y"], "c": 0}, ["a", "b"], "dotproduct")
    assert jobs == [{"a": 1, "b": "x", "c": 0}, {"a": 2, "b": "y", "c": 0}]
    assert dims == [2]


def test_one_input_needs_no_method() -> None:
    jobs, dims = split({"a": [1, 2, 3]}, ["a"], None)
    assert [j["a"] for j in jobs] == [1, 2, 3] and dims == [3]


def test_crossproducts_make_every_combination_first_input_outermost() -> None:
    flat, flat_dims = split({"a": [1, 2], "b": ["x", "y", "z"]}, ["a", "b"],
                            "flat_crossproduct")
    nested, nested_dims = split({"a": [1, 2], "b": ["x", "y", "z"]}, ["a", "b"],
                                "nested_crossproduct")
    assert [(j["a"], j["b"]) for j in flat] == [(1, "x"), (1, "y"), (1, "z"),
                                                (2, "x"), (2, "y"), (2, "z")]
    assert flat == nested
    assert flat_dims == [6] and nested_dims == [2, 3]
    assert nest(list(range(6)), nested_dims) == [[0, 1, 2], [3, 4, 5]]


def test_nested_empty_inner_array_gives_empty_rows() -> None:
    jobs, dims = split({"a": [1, 2], "b": []}, ["a", "b"], "nested_crossproduct")
    assert jobs == [] and nest([], dims) == [[], []]


@pytest.mark.parametrize("job,keys,method,message", [
    ({"a": [1], "b": [1, 2]}, ["a", "b"], "dotproduct", "equal length"),
    ({"a": [1], "b": [1]}, ["a", "b"], None, "needs scatterMethod"),
    ({"a": 1}, ["a"], None, "must be an array"),
    ({"a": [1]}, ["a"], "zigzag", "unknown scatterMethod"),
])
def test_bad_scatters_say_what_is_wrong(job: dict[str, object], keys: list[str],
                                        method: str | None, message: str) -> None:
    with pytest.raises(CWLError, match=message):
        split(job, keys, method)

"""Scatter (pure functions): split a step's input object into jobs, and gather their outputs.

The three CWL methods:

* ``dotproduct``: the i-th job takes the i-th element of every scattered input (all the
  same length); outputs are flat arrays.
* ``flat_crossproduct``: one job per combination, first input outermost; flat arrays.
* ``nested_crossproduct``: the same jobs, but outputs nest one array level per input.

``split`` returns the jobs in order plus the *dimensions* that ``nest`` uses to shape the
gathered values (``[n]`` for the flat methods, one length per input for the nested one).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from plait.cwl._errors import CWLError

METHODS = ("dotproduct", "flat_crossproduct", "nested_crossproduct")


def split(job: dict[str, Any], keys: Sequence[str],
          method: str | None) -> tuple[list[dict[str, Any]], list[int]]:
    """The job input objects of a scatter over ``keys``, and the output dimensions."""
    if method is None:
        if len(keys) != 1:
            raise CWLError("a scatter over several inputs needs scatterMethod "
                           f"(one of {', '.join(METHODS)}); scattered: {', '.join(keys)}")
        method = "dotproduct"
    arrays = []
    for key in keys:
        value = job.get(key)
        if not isinstance(value, list):
            raise CWLError(f"scattered input {key} must be an array, got "
                           f"{type(value).__name__}: {value!r}"[:300])
        arrays.append(value)
    if method == "dotproduct":
        lengths = {len(a) for a in arrays}
        if len(lengths) > 1:
            raise CWLError("dotproduct scatter needs arrays of equal length; got "
                           + ", ".join(f"{k}: {len(a)}" for k, a in zip(keys, arrays, strict=True)))
        n = lengths.pop() if lengths else 0
        jobs = [{**job, **{k: a[i] for k, a in zip(keys, arrays, strict=True)}} for i in range(n)]
        return jobs, [n]
    if method not in METHODS:
        raise CWLError(f"unknown scatterMethod {method!r}: expected one of {', '.join(METHODS)}")
    jobs = [{**job, **dict(zip(keys, combo, strict=True))} for combo in itertools.product(*arrays)]
    dims = [len(a) for a in arrays] if method == "nested_crossproduct" else [len(jobs)]
    return jobs, dims


def nest(values: Sequence[Any], dims: Sequence[int]) -> list[Any]:
    """``values`` (one per job, in ``split`` order) shaped as nested arrays of ``dims``."""
    if len(dims) <= 1:
        return list(values)
    inner = 1
    for d in dims[1:]:
        inner *= d
    return [nest(values[i * inner:(i + 1) * inner], dims[1:]) for i in range(dims[0])]

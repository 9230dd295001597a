"""Finding futures in a task's arguments, and replacing them by their results."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DependencyResolver:
    """How the kernel finds dependencies inside one argument, and unwraps them.

    ``traverse_to_gather(obj)`` lists the futures in ``obj``; ``traverse_to_unwrap(obj)``
    returns ``obj`` with every future replaced by its result.
    """

    traverse_to_gather: Callable[[Any], list[Future[Any]]]
    traverse_to_unwrap: Callable[[Any], Any]


def _shallow_gather(obj: Any) -> list[Future[Any]]:
    return [obj] if isinstance(obj, Future) else []


def _shallow_unwrap(obj: Any) -> Any:
    return obj.result() if isinstance(obj, Future) else obj


def _deep_gather(obj: Any) -> list[Future[Any]]:
    if isinstance(obj, Future):
        return [obj]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [f for item in obj for f in _deep_gather(item)]
    if isinstance(obj, dict):
        return [f for pair in obj.items() for item in pair for f in _deep_gather(item)]
    return []


def _deep_unwrap(obj: Any) -> Any:
    if isinstance(obj, Future):
        return obj.result()
    if isinstance(obj, (list, tuple, set, frozenset)):
        return type(obj)(_deep_unwrap(item) for item in obj)
    if isinstance(obj, dict):
        return {_deep_unwrap(k): _deep_unwrap(v) for k, v in obj.items()}
    return obj


SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(_shallow_gather, _shallow_unwrap)
"""Futures given directly as an argument, keyword value or ``inputs`` entry (the default)."""

DEEP_DEPENDENCY_RESOLVER = DependencyResolver(_deep_gather, _deep_unwrap)
"""Also futures nested in lists, tuples, sets and dicts."""


def gather(resolver: DependencyResolver | None, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> list[Future[Any]]:
    """Every future in positional args, keyword values and the ``inputs`` list."""
    if resolver is None:  # the hot path: shallow, inlined
        deps = [a for a in args if isinstance(a, Future)]
        if kwargs:
            deps += [v for v in kwargs.values() if isinstance(v, Future)]
            deps += [v for v in kwargs.get("inputs") or () if isinstance(v, Future)]
        return deps
    found = [f for a in args for f in resolver.traverse_to_gather(a)]
    found += [f for v in kwargs.values() for f in resolver.traverse_to_gather(v)]
    found += [f for v in kwargs.get("inputs") or () for f in resolver.traverse_to_gather(v)]
    return found


def unwrap(resolver: DependencyResolver | None, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` with every dependency replaced by its result."""
    walk = resolver.traverse_to_unwrap if resolver else _shallow_unwrap
    new_args = tuple(walk(a) for a in args)
    new_kwargs = {k: walk(v) for k, v in kwargs.items()}
    inputs = new_kwargs.get("inputs")
    if isinstance(inputs, (list, tuple)):
        new_kwargs["inputs"] = [walk(v) for v in inputs]
    return new_args, new_kwargs

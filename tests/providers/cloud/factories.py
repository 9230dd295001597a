"""Provider factories for the cloud tests' ``make`` fixtures: each provider made is cleaned
up after the test, and the stand-in must then hold nothing of its run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from plait.providers._cloud import CloudProvider

P = TypeVar("P", bound=CloudProvider)


def providers_made_by(build: Callable[..., P], script_dir: Path,
                      leftovers: Callable[[P], list[Any]]) -> Iterator[Callable[..., P]]:
    """A ``make`` fixture's body: builds providers writing into ``script_dir``; afterwards
    runs each one's cleanup() and asserts that the stand-in holds nothing of its run."""
    made: list[P] = []

    def factory(*args: Any, **kwargs: Any) -> P:
        prov = build(*args, **kwargs)
        prov.script_dir = str(script_dir)
        made.append(prov)
        return prov

    yield factory
    for prov in made:
        prov.cleanup(timeout=5)
        left = leftovers(prov)
        assert not left, f"{prov.label} left {left} behind"

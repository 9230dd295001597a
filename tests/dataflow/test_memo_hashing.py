"""Memoization hashes: pure tests of id_for_memo and make_hash (no kernel, no threads)."""

from __future__ import annotations

import collections
import dataclasses
import enum
import functools
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import Future
from typing import Any

import psutil
import pytest

from plait import File
from plait.dataflow._task import Task
from plait.dataflow.memoization import id_for_memo, make_hash


def task(func: Any, *args: Any, ignore: tuple[str, ...] = (), **kwargs: Any) -> Task:
    return Task(7, getattr(func, "__name__", "f"), func, args, kwargs, "threads",
                cache=True, ignore_for_cache=ignore)


def add(x: Any, y: Any = 1) -> Any:
    return x + y


def define(source: str) -> Any:
    """Compile ``source`` as module ``mod`` and return its function ``f``."""
    namespace: dict[str, Any] = {"__name__": "mod"}
    exec(compile(textwrap.dedent(source), "mod.py", "exec"), namespace)
    return namespace["f"]


def test_same_call_same_hash_and_any_argument_change_changes_it() -> None:
    base = make_hash(task(add, 1, y=2))
    assert make_hash(task(add, 1, y=2)) == base
    assert len(base) == 32 and int(base, 16) >= 0
    assert make_hash(task(add, 2, y=2)) != base
    assert make_hash(task(add, 1, y=3)) != base
    assert make_hash(task(add, 1, 2)) != base  # positional vs keyword are different calls


@pytest.mark.parametrize(("a", "b"), [
    (1, True), (1, 1.0), (0.0, -0.0), ([1, 2], (1, 2)), ("1", 1), (b"a", "a"),
    (["ab"], ["a", "b"]), ([[1], 2], [[1, 2]]), ({"a": 1}, {"a": "1"}), (None, 0),
    ({1, 2}, frozenset({1, 2, 3})), (range(3), [0, 1, 2]), ("", b""),
])
def test_distinct_values_have_distinct_ids(a: Any, b: Any) -> None:
    assert id_for_memo(a) != id_for_memo(b)


def test_dict_and_set_ids_do_not_depend_on_order() -> None:
    assert id_for_memo({"a": 1, "b": [2, 3]}) == id_for_memo({"b": [2, 3], "a": 1})
    assert id_for_memo({"x", "y", 3}) == id_for_memo({3, "y", "x"})
    assert make_hash(task(add, x=1, y=2)) == make_hash(task(add, y=2, x=1))


def test_function_body_edit_changes_hash_but_moving_it_does_not() -> None:
    v1 = define("def f(x):\n    return x + 1\n")
    v1_moved = define("\n\n\n# a comment\ndef f(x):\n    return x + 1\n")
    v2 = define("def f(x):\n    return x + 2\n")
    v3 = define("def f(x):\n    return max(x, 1)\n")
    assert make_hash(task(v1, 5)) == make_hash(task(v1_moved, 5))
    assert make_hash(task(v1, 5)) != make_hash(task(v2, 5))
    assert make_hash(task(v1, 5)) != make_hash(task(v3, 5))


def test_nested_code_defaults_and_closures_are_part_of_the_identity() -> None:
    inner1 = define("def f(x):\n    g = lambda y: y * 2\n    return g(x)\n")
    inner2 = define("def f(x):\n    g = lambda y: y * 3\n    return g(x)\n")
    assert make_hash(task(inner1, 1)) != make_hash(task(inner2, 1))

    d1, d2 = define("def f(x, k=1):\n    return x\n"), define("def f(x, k=2):\n    return x\n")
    assert make_hash(task(d1, 1)) != make_hash(task(d2, 1))

    def make(n: int) -> Any:
        def f(x: int) -> int:
            return x + n
        return f

    assert make_hash(task(make(1), 1)) != make_hash(task(make(2), 1))
    assert make_hash(task(make(1), 1)) == make_hash(task(make(1), 1))


def test_changed_defaults_on_the_same_function_object_are_seen() -> None:
    f = define("def f(x, k=1):\n    return x\n")
    before = make_hash(task(f, 1))
    f.__defaults__ = (5,)
    assert make_hash(task(f, 1)) != before


def test_recursive_closure_does_not_loop() -> None:
    def outer() -> Any:
        def fact(n: int) -> int:
            return 1 if n < 2 else n * fact(n - 1)
        return fact

    assert make_hash(task(outer(), 3)) == make_hash(task(outer(), 3))


def test_plait_runner_partials_are_unwrapped_to_the_user_function() -> None:
    from plait.app._bash import run_bash_app
    from plait.app._decorators import _run_timed

    timed = functools.partial(_run_timed, add, "add", None)
    assert make_hash(task(timed, 1, walltime=5)) == make_hash(task(add, 1))
    bash = functools.partial(run_bash_app, add, "add", None)
    assert make_hash(task(bash, 1)) != make_hash(task(add, 1))
    other = functools.partial(run_bash_app, define("def f(x):\n    return 'echo'\n"), "f", None)
    assert make_hash(task(bash, 1)) != make_hash(task(other, 1))


def test_ignore_for_cache_and_resource_kwargs_are_left_out() -> None:
    base = make_hash(task(add, 1, y=2, ignore=("y",)))
    assert make_hash(task(add, 1, y=99, ignore=("y",))) == base
    assert make_hash(task(add, 1, y=2, parsl_resource_specification={"cores": 4})) == \
        make_hash(task(add, 1, y=2))


def test_files_hash_by_url() -> None:
    assert id_for_memo(File("/data/a.txt")) == id_for_memo(File("/data/a.txt"))
    assert id_for_memo(File("/data/a.txt")) != id_for_memo(File("/data/b.txt"))
    out1 = make_hash(task(add, 1, outputs=[File("/o/1")]))
    assert out1 != make_hash(task(add, 1, outputs=[File("/o/2")]))
    assert id_for_memo(pathlib.Path("/a")) != id_for_memo("/a")


def test_namedtuples_enums_and_dataclasses() -> None:
    Point = collections.namedtuple("Point", "x y")
    assert id_for_memo(Point(1, 2)) != id_for_memo((1, 2))

    class Color(enum.IntEnum):
        RED = 1

    assert id_for_memo(Color.RED) != id_for_memo(1)

    @dataclasses.dataclass
    class Params:
        a: int
        b: list[int]

    assert id_for_memo(Params(1, [2])) == id_for_memo(Params(1, [2]))
    assert id_for_memo(Params(1, [2])) != id_for_memo(Params(1, [3]))
    p = Params(1, [2])
    p.hidden = 3  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not dataclass fields"):
        id_for_memo(p)


class Opaque:
    def __init__(self, v: int) -> None:
        self.v = v


@pytest.mark.parametrize(("value", "culprit", "hint"), [
    (threading.Lock(), "lock", "no hasher"),
    (Opaque(1), "Opaque", "no hasher"),
    ((i for i in range(3)), "generator", "pass a list"),
    ([1, {"k": Opaque(2)}], "Opaque", "no hasher"),
    ([Future()], "Future", "DEEP_DEPENDENCY_RESOLVER"),
    (collections.OrderedDict(a=1), "OrderedDict", "subclass"),
])
def test_unhashable_arguments_raise_naming_the_argument_and_the_fix(
        value: Any, culprit: str, hint: str) -> None:
    with pytest.raises(ValueError) as info:
        make_hash(task(add, 1, y=value))
    message = str(info.value)
    assert "task 7 (add)" in message and "keyword argument 'y'" in message
    assert culprit in message and hint in message
    assert "@id_for_memo.register(" in message and "ignore_for_cache" in message
    with pytest.raises(ValueError, match="positional argument 1"):
        make_hash(task(add, 1, value))


def test_open_file_argument_is_refused(tmp_path: pathlib.Path) -> None:
    with open(tmp_path / "x", "w") as fh, pytest.raises(ValueError, match="open file"):
        make_hash(task(add, fh))


def test_registered_hasher_is_used_and_its_failure_is_reported() -> None:
    class Sample:
        def __init__(self, name: str) -> None:
            self.name = name

    @id_for_memo.register(Sample)
    def _(obj: Sample, output_ref: bool = False) -> bytes:
        if obj.name == "bad":
            raise RuntimeError("cannot")
        return id_for_memo(obj.name)

    assert make_hash(task(add, Sample("a"))) == make_hash(task(add, Sample("a")))
    assert make_hash(task(add, Sample("a"))) != make_hash(task(add, Sample("b")))
    with pytest.raises(ValueError, match="hasher raised RuntimeError"):
        make_hash(task(add, Sample("bad")))


HASH_IN_CHILD = """
import sys
sys.path.insert(0, {here!r})
from test_memo_hashing import ARGS, KWARGS, SOURCE, define, task
from plait.dataflow.memoization import make_hash
print(make_hash(task(define(SOURCE), *ARGS, **KWARGS)))
"""
SOURCE = "def f(x, y=(1, 'k')):\n    return [x, y, lambda: 3.5]\n"
ARGS = ([1, 2.5, "s", None, True, b"b", ("t",)],)
KWARGS = {"y": {"b": {1, 2, 3, "x", "y"}, "a": File("/f"), "c": frozenset("abc")}}


def test_hash_is_stable_across_processes_and_hash_seeds() -> None:
    script = HASH_IN_CHILD.format(here=os.path.dirname(__file__))
    digests = set()
    for seed in ("1", "2", "12345"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, timeout=60, check=True)
        digests.add(out.stdout.strip())
    assert digests == {make_hash(task(define(SOURCE), *ARGS, **KWARGS))}
    assert not psutil.Process().children(recursive=True)


def test_user_hasher_for_a_builtin_type_replaces_the_fast_path() -> None:
    from plait.dataflow import _memokey as _hashing

    before = make_hash(task(add, 1.0))
    registry = dict(id_for_memo.registry)
    try:
        @id_for_memo.register
        def _(obj: float, output_ref: bool = False) -> bytes:
            return b"rounded" + id_for_memo(round(obj))

        assert float not in _hashing._FAST
        assert make_hash(task(add, 1.2)) == make_hash(task(add, 0.8)) != before
    finally:  # restore the built-in hasher for the other tests
        id_for_memo.register(float, registry[float])
        _hashing._FAST[float] = lambda x: b"f" + _hashing.struct.pack("<d", x)
    assert make_hash(task(add, 1.0)) == before


def test_parsl_import_paths() -> None:
    import plait.dataflow.memoization as memoization
    import plait.utils as utils

    assert memoization.__all__ == ["BasicMemoizer", "CheckpointWarning", "Memoizer",
                                   "id_for_memo", "make_hash"]
    assert utils.__all__ == ["RepresentationMixin", "Timer", "get_all_checkpoints",
                             "get_last_checkpoint"]
    namespace: dict[str, object] = {}
    exec("from plait.dataflow.memoization import *\nfrom plait.utils import *", namespace)
    assert issubclass(namespace["BasicMemoizer"], namespace["Memoizer"])  # type: ignore[arg-type]

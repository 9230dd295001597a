"""The memoization key of a task: its function and arguments, hashed with id_for_memo.

The key is a blake2b digest (hex) over the canonical encodings of the function, every
positional argument, and every keyword argument by name, less ``ignore_for_cache`` names and
the kwargs in NOT_HASHED. Exact built-in types take a fast path around singledispatch, which
a user's own registration for such a type switches off.
"""

from __future__ import annotations

import hashlib
import struct
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plait.dataflow._hashing import (
    UnhashableValue,
    _bool_id,
    _function_id,
    _none_id,
    _qualified,
    _sized,
    _text,
    id_for_memo,
)

if TYPE_CHECKING:
    from plait.dataflow._task import Task

# kwargs that change where or how long a task runs, not what it computes (plait difference:
# Parsl hashes them, so raising a walltime or memory request invalidated the cache)
NOT_HASHED = frozenset({"walltime", "parsl_resource_specification"})


def make_hash(task: Task) -> str:
    """The memoization key of ``task``: a hex digest over its function, positional
    arguments and keyword arguments (less ``ignore_for_cache`` names, ``walltime`` and
    ``parsl_resource_specification``); ``outputs`` are hashed with ``output_ref=True``.

    Raises:
        ValueError: an argument has no stable hash; the message names it and the fixes.
    """
    parts: list[bytes] = []
    add = parts.append
    func = task.func
    try:
        add(_function_id(func) if type(func) is types.FunctionType else id_for_memo(func))
    except Exception as exc:
        raise _argument_error(task, "the app function", None, task.func, exc) from exc
    fast = _FAST
    for i, arg in enumerate(task.args or ()):
        try:
            encode = fast.get(type(arg))
            add(encode(arg) if encode is not None else id_for_memo(arg))
        except Exception as exc:
            raise _argument_error(task, f"positional argument {i}", None, arg, exc) from exc
    kwargs = task.kwargs
    if kwargs:
        ignored = task.ignore_for_cache
        for name in sorted(kwargs):
            if name in ignored or name in NOT_HASHED:
                continue
            value = kwargs[name]
            try:
                add(_text(name))
                encode = fast.get(type(value))
                add(encode(value) if encode is not None and name != "outputs"
                    else id_for_memo(value, name == "outputs"))
            except Exception as exc:
                raise _argument_error(task, f"keyword argument {name!r}", name, value,
                                      exc) from exc
    return hashlib.blake2b(b"".join(parts), digest_size=16).hexdigest()


# Exact built-in types skip singledispatch's lookup (the hot path of every cached task).
# A registration that replaces the hasher of one of these types drops it from here, so a
# user's own hasher always wins.
_FAST: dict[type, Callable[[Any], bytes]] = {
    int: lambda x: b"i%d;" % x,
    str: _text,
    float: lambda x: b"f" + struct.pack("<d", x),
    bool: _bool_id,
    type(None): _none_id,
    bytes: lambda x: _sized(b"b", x),
}
_register = id_for_memo.register


_BUILTIN = {t: id_for_memo.registry[t] for t in _FAST}


def _forget_replaced_fast_paths() -> None:
    for cls in list(_FAST):
        if id_for_memo.registry.get(cls) is not _BUILTIN[cls]:
            _FAST.pop(cls, None)


def _register_then_check(cls: Any, func: Any = None) -> Any:
    if func is None and isinstance(cls, type):  # used as @id_for_memo.register(MyType)
        def decorate(f: Any) -> Any:
            registered = _register(cls, f)
            _forget_replaced_fast_paths()
            return registered
        return decorate
    registered = _register(cls, func)
    _forget_replaced_fast_paths()
    return registered


id_for_memo.register = _register_then_check  # type: ignore[method-assign]


def hash_parts(task: Task) -> dict[str, str]:
    """A short digest of each part of ``task``'s memoization key (function, each argument),
    so that two runs' logs show which part changed when a task missed the cache."""
    def short(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=6).hexdigest()

    parts = {"function": short(id_for_memo(task.func))}
    for i, arg in enumerate(task.args or ()):
        parts[f"arg {i}"] = short(id_for_memo(arg))
    for name, value in sorted((task.kwargs or {}).items()):
        if name not in task.ignore_for_cache and name not in NOT_HASHED:
            parts[name] = short(id_for_memo(value, name == "outputs"))
    return parts


def _argument_error(task: Task, where: str, name: str | None, value: object,
                    exc: Exception) -> ValueError:
    culprit = exc.value_type if isinstance(exc, UnhashableValue) else type(value)
    reason = exc.reason if isinstance(exc, UnhashableValue) else f"its hasher raised {exc!r}"
    inner = "" if culprit is type(value) else f" (it contains a {_qualified(culprit)})"
    leave_out = (f"add {name!r} to ignore_for_cache=[...] on the app" if name is not None
                 else "pass it as a keyword argument listed in ignore_for_cache=[...]")
    return ValueError(
        f"{task.describe()}: cannot compute a memoization hash of {where}, a "
        f"{_qualified(type(value))}{inner}: {reason}. Register a hasher with "
        f"@id_for_memo.register({culprit.__name__}) (from plait.dataflow.memoization import "
        f"id_for_memo) returning bytes that identify its value, or {leave_out}, or turn "
        "caching off for this app (cache=False).")

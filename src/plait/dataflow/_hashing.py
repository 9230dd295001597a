"""Memoization hashes: a canonical byte encoding of values, functions included.

``id_for_memo(obj, output_ref=False) -> bytes`` is a ``functools.singledispatch`` function
(Parsl's name and signature): each registered type turns a value into bytes that identify
it, the same in every process and run. No encoding depends on ``id()`` or the built-in
``hash()`` (salted per process by PYTHONHASHSEED). Every encoding starts with a one-byte
type tag and is self-delimiting, so concatenations cannot collide (``["ab"]`` vs
``["a", "b"]``).

Registered: None, bool, int, float, complex, str, bytes, bytearray, list, tuple (and
namedtuples), dict (keys sorted by their encoding), set/frozenset (elements sorted), range,
Ellipsis, Enum members, dataclass instances (class + fields), pathlib paths, File (by URL),
functions (module, qualname and code: editing the body changes the hash), code objects,
functools.partial, bound methods, classes and builtins (by name).

Anything else raises ValueError rather than risk a wrong cache hit: register a hasher with
``@id_for_memo.register(MyType)`` or leave the argument out with ``ignore_for_cache``.

The task key built from these is in ``_memokey``. Limits: a function is hashed by its own
code, defaults and closure, not by the code of other functions it calls; plait's own
runner functions (bash apps, walltime) are identified by name, so a plait upgrade does not
invalidate caches.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import pathlib
import struct
import threading
import types
from concurrent.futures import Future
from typing import Any

from plait.data._files import File

# plait runners that only add a time limit: the app is identified by the function they wrap
_TRANSPARENT_RUNNERS = frozenset({"plait.app._decorators._run_timed"})


class UnhashableValue(ValueError):
    """No stable memoization hash exists for a value (internal: carries the culprit type)."""

    def __init__(self, value_type: type, reason: str) -> None:
        super().__init__(value_type, reason)
        self.value_type, self.reason = value_type, reason

    def __str__(self) -> str:
        return (f"unknown type for memoization: {_qualified(self.value_type)}: {self.reason}")


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _sized(tag: bytes, data: bytes) -> bytes:
    return b"%s%d:%s" % (tag, len(data), data)


def _text(s: str) -> bytes:
    return _sized(b"s", s.encode("utf-8", "surrogatepass"))


@functools.singledispatch
def id_for_memo(obj: object, output_ref: bool = False) -> bytes:
    """Bytes identifying ``obj`` for memoization, stable across processes and runs.

    Register a hasher for your own type with ``@id_for_memo.register(MyType)``; it takes
    ``(obj, output_ref=False)`` and returns bytes (``output_ref`` is True for the
    ``outputs`` list). Unregistered types raise ValueError: plait never guesses, because a
    guess could return a stored result for different arguments.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _dataclass_id(obj, output_ref)
    raise UnhashableValue(type(obj), _why_unhashable(obj))


def _why_unhashable(obj: object) -> str:
    if isinstance(obj, Future):
        return ("a future inside a container is not replaced by its result; pass it as a "
                "direct argument, or use Config(dependency_resolver="
                "DEEP_DEPENDENCY_RESOLVER)")
    if isinstance(obj, io.IOBase):
        return "an open file has no stable value; pass its path (or a File) instead"
    if isinstance(obj, types.GeneratorType):
        return "a generator has no stable value; pass a list instead"
    return "no hasher is registered for this type"


def _exact_or_raise(obj: object, base: type) -> None:
    if type(obj) is not base:
        raise UnhashableValue(type(obj), f"a subclass of {base.__name__} may carry state "
                                         "that plait cannot see; register a hasher for it")


@id_for_memo.register(type(None))
def _none_id(obj: None, output_ref: bool = False) -> bytes:
    return b"N"


@id_for_memo.register(bool)
def _bool_id(obj: bool, output_ref: bool = False) -> bytes:
    return b"T" if obj else b"F"


@id_for_memo.register(int)
def _int_id(obj: int, output_ref: bool = False) -> bytes:
    if type(obj) is not int:
        if isinstance(obj, enum.Enum):
            return _enum_id(obj)
        _exact_or_raise(obj, int)
    return b"i%d;" % obj


@id_for_memo.register(float)
def _float_id(obj: float, output_ref: bool = False) -> bytes:
    if type(obj) is not float:
        if isinstance(obj, enum.Enum):
            return _enum_id(obj)
        _exact_or_raise(obj, float)
    return b"f" + struct.pack("<d", obj)


@id_for_memo.register(complex)
def _complex_id(obj: complex, output_ref: bool = False) -> bytes:
    _exact_or_raise(obj, complex)
    return b"j" + struct.pack("<dd", obj.real, obj.imag)


@id_for_memo.register(str)
def _str_id(obj: str, output_ref: bool = False) -> bytes:
    if type(obj) is not str:
        if isinstance(obj, enum.Enum):
            return _enum_id(obj)
        _exact_or_raise(obj, str)
    return _text(obj)


@id_for_memo.register(bytes)
def _bytes_id(obj: bytes, output_ref: bool = False) -> bytes:
    _exact_or_raise(obj, bytes)
    return _sized(b"b", obj)


@id_for_memo.register(bytearray)
def _bytearray_id(obj: bytearray, output_ref: bool = False) -> bytes:
    return _sized(b"B", bytes(obj))


@id_for_memo.register(type(Ellipsis))
def _ellipsis_id(obj: object, output_ref: bool = False) -> bytes:
    return b"E"


@id_for_memo.register(enum.Enum)
def _enum_id(obj: enum.Enum, output_ref: bool = False) -> bytes:
    return b"e" + _text(_qualified(type(obj))) + _text(obj.name)


def _items(tag: bytes, parts: list[bytes]) -> bytes:
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


@id_for_memo.register(list)
def _list_id(obj: list[Any], output_ref: bool = False) -> bytes:
    _exact_or_raise(obj, list)
    return _items(b"l", [id_for_memo(x, output_ref) for x in obj])


@id_for_memo.register(tuple)
def _tuple_id(obj: tuple[Any, ...], output_ref: bool = False) -> bytes:
    parts = [id_for_memo(x, output_ref) for x in obj]
    if type(obj) is tuple:
        return _items(b"t", parts)
    if hasattr(obj, "_fields") and not hasattr(obj, "__dict__"):  # a namedtuple: no hidden state
        return _text(_qualified(type(obj))) + _items(b"n", parts)
    raise UnhashableValue(type(obj), "a tuple subclass may carry state plait cannot see; "
                                     "register a hasher for it")


@id_for_memo.register(dict)
def _dict_id(obj: dict[Any, Any], output_ref: bool = False) -> bytes:
    _exact_or_raise(obj, dict)
    pairs = sorted((id_for_memo(k, output_ref), id_for_memo(v, output_ref))
                   for k, v in obj.items())
    return _items(b"d", [k + v for k, v in pairs])


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _set_id(obj: set[Any] | frozenset[Any], output_ref: bool = False) -> bytes:
    if type(obj) not in (set, frozenset):
        raise UnhashableValue(type(obj), "register a hasher for this set subclass")
    return _items(b"S", sorted(id_for_memo(x, output_ref) for x in obj))


@id_for_memo.register(range)
def _range_id(obj: range, output_ref: bool = False) -> bytes:
    return b"r%d:%d:%d;" % (obj.start, obj.stop, obj.step)


@id_for_memo.register(pathlib.PurePath)
def _path_id(obj: pathlib.PurePath, output_ref: bool = False) -> bytes:
    return b"p" + _text(_qualified(type(obj))) + _text(str(obj))


@id_for_memo.register(File)
def _file_id(obj: File, output_ref: bool = False) -> bytes:
    return b"u" + _text(obj.url)


def _dataclass_id(obj: Any, output_ref: bool) -> bytes:
    names = [f.name for f in dataclasses.fields(obj)]
    extra = set(getattr(obj, "__dict__", {})) - set(names)
    if extra:
        raise UnhashableValue(type(obj), f"attributes {sorted(extra)} are not dataclass "
                                         "fields; register a hasher for it")
    parts = [_text(n) + id_for_memo(getattr(obj, n), output_ref) for n in names]
    return b"D" + _text(_qualified(type(obj))) + _items(b"", parts)


# -- functions ---------------------------------------------------------------------------------

@id_for_memo.register(types.CodeType)
def _code_id(code: types.CodeType, output_ref: bool = False) -> bytes:
    """Code identity: bytecode, constants (nested code too), names and signature shape.
    Line numbers are left out, so moving a function in its file keeps its cache."""
    consts = _items(b"", [id_for_memo(c) for c in code.co_consts])
    return b"".join((
        b"C%d,%d,%d,%d;" % (code.co_argcount, code.co_posonlyargcount,
                            code.co_kwonlyargcount, code.co_flags),
        _sized(b"", code.co_code), consts,
        *(_items(b"", [_text(n) for n in names]) for names in (
            code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)),
    ))


class _FunctionDigest:
    """The cached part of a function's identity, valid while its code, defaults and name
    stay the same objects."""

    __slots__ = ("code", "defaults", "digest", "kwdefaults", "qualname")

    def __init__(self, code: Any, defaults: Any, kwdefaults: Any, qualname: str,
                 digest: bytes) -> None:
        self.code, self.defaults, self.kwdefaults = code, defaults, kwdefaults
        self.qualname, self.digest = qualname, digest


# Hashing a code object walks all its constants: done once per function, not per task. The
# digest is kept on the function itself (an attribute lookup is the cheapest cache there is,
# and it goes away with the function); it is checked against the function's current code,
# defaults and name, so a wrapper that copied the attribute with functools.wraps, or a
# reassigned __code__, is hashed afresh.
_CACHE_ATTR = "_plait_memo_digest"
_IN_PROGRESS = threading.local()


@id_for_memo.register(types.FunctionType)
def _function_id(func: types.FunctionType, output_ref: bool = False) -> bytes:
    cached: _FunctionDigest | None = getattr(func, _CACHE_ATTR, None)
    if cached is None or not (
            cached.code is func.__code__ and cached.defaults is func.__defaults__
            and cached.kwdefaults is func.__kwdefaults__
            and cached.qualname is func.__qualname__):
        module = func.__module__ or ""
        if module.startswith("plait."):  # plait internals: by name (see the module docstring)
            return b"P" + _text(module) + _text(func.__qualname__)
        cached = _digest_function(func)
    if not func.__closure__:
        return cached.digest
    active: set[int] | None = getattr(_IN_PROGRESS, "ids", None)
    if active is None:
        active = _IN_PROGRESS.ids = set()
    if id(func) in active:  # a recursive closure refers to itself
        return b"R" + cached.digest
    active.add(id(func))
    try:  # cells are mutable (nonlocal), so their contents are encoded on every call
        return cached.digest + _items(b"", [_cell_id(cell) for cell in func.__closure__])
    finally:
        active.discard(id(func))


def _digest_function(func: types.FunctionType) -> _FunctionDigest:
    code, defaults, kwdefaults = func.__code__, func.__defaults__, func.__kwdefaults__
    name = _text(func.__module__ or "") + _text(func.__qualname__)
    digest = hashlib.blake2b(b"".join((
        name, _code_id(code), id_for_memo(defaults), id_for_memo(kwdefaults),
    )), digest_size=16).digest()
    cached = _FunctionDigest(code, defaults, kwdefaults, func.__qualname__, b"c" + digest)
    try:
        setattr(func, _CACHE_ATTR, cached)
    except AttributeError:
        pass  # a function whose __dict__ cannot take attributes: hashed every time
    return cached


def _cell_id(cell: Any) -> bytes:
    try:
        contents = cell.cell_contents
    except ValueError:  # an empty cell: the variable was never assigned
        return b"0"
    return id_for_memo(contents)


@id_for_memo.register(functools.partial)
def _partial_id(obj: functools.partial[Any], output_ref: bool = False) -> bytes:
    func = obj.func
    where = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', '')}"
    if where in _TRANSPARENT_RUNNERS and obj.args:
        return id_for_memo(obj.args[0])
    return b"q" + id_for_memo(func) + id_for_memo(obj.args) + id_for_memo(obj.keywords)


@id_for_memo.register(types.MethodType)
def _method_id(obj: types.MethodType, output_ref: bool = False) -> bytes:
    return b"m" + id_for_memo(obj.__self__) + id_for_memo(obj.__func__)


@id_for_memo.register(types.BuiltinFunctionType)
def _builtin_id(obj: types.BuiltinFunctionType, output_ref: bool = False) -> bytes:
    owner = getattr(obj, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return b"M" + id_for_memo(owner) + _text(obj.__name__)  # e.g. [].append: bound
    return b"x" + _text(obj.__module__ or "builtins") + _text(obj.__qualname__)


@id_for_memo.register(type)
def _class_id(obj: type, output_ref: bool = False) -> bytes:
    return b"k" + _text(_qualified(obj))

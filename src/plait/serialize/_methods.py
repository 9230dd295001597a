"""Serialization methods chosen as in Parsl (``parsl.serialize.facade.register_method_for_*``).

By default plait's wire format is pickle protocol 5 (cloudpickle where plain pickle cannot
send by reference). A registered method replaces it for data (arguments and results) or for
code (functions), in the process that registers it:

    payload = 0x00, len(identifier), identifier, method.serialize(obj)

A pickle stream starts with 0x80, so the first byte tells a tagged payload apart, and the
receiving side finds the method by its identifier: Parsl's ``b"01"``/``b"02"``/``b"C2"``,
or ``b"<module> <ClassName>"``, which it imports and builds with no arguments.
"""

from __future__ import annotations

import importlib
from typing import Any

from plait._errors import ConfigurationError, DeserializationError
from plait.serialize._concretes import (
    DillCallableSerializer,
    DillSerializer,
    PickleSerializer,
    SerializerBase,
)

_TAG = 0
#: the registered methods: None means plait's own format
DATA: SerializerBase | None = None
CODE: SerializerBase | None = None
_KNOWN: dict[bytes, SerializerBase] = {
    s.identifier: s for s in (PickleSerializer(), DillSerializer(), DillCallableSerializer())}


def _checked(method: object, role: str) -> SerializerBase:
    if not isinstance(method, SerializerBase):
        raise ConfigurationError(
            f"register_method_for_{role}: {method!r} is not a serializer: pass an instance of "
            "a plait.serialize.base.SerializerBase subclass, e.g. PickleSerializer()")
    identifier = method.identifier
    if not isinstance(identifier, bytes) or not 0 < len(identifier) < 256:
        raise ConfigurationError(
            f"register_method_for_{role}: {type(method).__name__}.identifier must be 1 to 255 "
            f"bytes, not {identifier!r}")
    _KNOWN.setdefault(identifier, method)
    return method


class DeserializerPluginError(DeserializationError):
    """A payload names a serialization method that cannot be loaded here (Parsl's name)."""

    def __init__(self, header: bytes, why: str = "") -> None:
        super().__init__(
            f"the payload was serialized by method {header!r}, which cannot be loaded here"
            f"{f' ({why})' if why else ''}; make its module importable where the payload is "
            "read")
        self.header = header

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.header,), self.__dict__


def register_data(method: SerializerBase) -> None:
    """Use ``method`` for task arguments and results sent from this process."""
    global DATA
    DATA = _checked(method, "data")


def register_code(method: SerializerBase) -> None:
    """Use ``method`` for the functions this process sends to workers."""
    global CODE
    CODE = _checked(method, "code")


def clear() -> None:
    """Back to plait's own format for data and code."""
    global DATA, CODE
    DATA = CODE = None


def dumps(method: SerializerBase, obj: object) -> bytes:
    """``obj`` serialized by ``method``, tagged with its identifier."""
    identifier = method.identifier
    return bytes((_TAG, len(identifier))) + identifier + method.serialize(obj)


def is_tagged(payload: Any) -> bool:
    """Whether ``payload`` (bytes, memoryview, any buffer) was made by :func:`dumps`."""
    try:
        return bool(payload[0] == _TAG)  # bytes and byte memoryviews: no copy, no view
    except IndexError:
        return False
    except TypeError:  # another buffer type
        view = memoryview(payload).cast("B")
        return bool(view.nbytes) and view[0] == _TAG


def loads(payload: Any) -> Any:
    """The object a tagged ``payload`` holds, deserialized by the method it names."""
    view = memoryview(payload).cast("B")
    end = 2 + view[1]
    identifier = bytes(view[2:end])
    return _method(identifier).deserialize(bytes(view[end:]))


def _method(identifier: bytes) -> SerializerBase:
    known = _KNOWN.get(identifier)
    if known is not None:
        return known
    module, _, name = identifier.decode(errors="replace").partition(" ")
    try:
        method = getattr(importlib.import_module(module), name)()
    except Exception as exc:
        raise DeserializerPluginError(identifier, f"{type(exc).__name__}: {exc}") from exc
    _KNOWN[identifier] = _checked(method, "data")
    return method

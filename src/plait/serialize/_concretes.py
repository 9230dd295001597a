"""Serializer classes under Parsl's names: an identifier plus serialize/deserialize.

plait's own wire format (see _pack) always uses pickle protocol 5, with cloudpickle for what
plain pickle cannot send by reference; these classes are for code that names a serializer
the way Parsl's ``parsl.serialize.concretes`` does.
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from typing import Any

from plait._errors import DeserializationError, OptionalModuleMissing, SerializationError


class SerializerBase(ABC):
    """A way to turn objects into bytes and back, named by ``identifier``."""

    @property
    def identifier(self) -> bytes:
        """The bytes naming this method: ``b"<module> <ClassName>"`` unless overridden."""
        return f"{type(self).__module__} {type(self).__name__}".encode()

    @abstractmethod
    def serialize(self, data: Any) -> bytes:
        """``data`` as bytes; raises SerializationError naming its type."""

    @abstractmethod
    def deserialize(self, body: bytes) -> Any:
        """The object ``body`` encodes; raises DeserializationError."""


class PickleSerializer(SerializerBase):
    """The standard library's pickle (Parsl's identifier ``b'01'``)."""

    identifier = b"01"

    def serialize(self, data: Any) -> bytes:
        try:
            return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise SerializationError(type(data).__name__, f"{type(exc).__name__}: {exc}") \
                from exc

    def deserialize(self, body: bytes) -> Any:
        try:
            return pickle.loads(body)
        except Exception as exc:
            raise DeserializationError(f"{type(exc).__name__}: {exc}") from exc


class DillSerializer(SerializerBase):
    """dill, which also pickles lambdas and interactively defined functions (Parsl's
    ``b'02'``); needs ``pip install dill``."""

    identifier = b"02"

    @staticmethod
    def _dill() -> Any:
        try:
            import dill
        except ImportError:
            raise OptionalModuleMissing(["dill"], "DillSerializer needs dill") from None
        return dill

    def serialize(self, data: Any) -> bytes:
        try:
            body: bytes = self._dill().dumps(data)
            return body
        except OptionalModuleMissing:
            raise
        except Exception as exc:
            raise SerializationError(type(data).__name__, f"{type(exc).__name__}: {exc}") \
                from exc

    def deserialize(self, body: bytes) -> Any:
        try:
            return self._dill().loads(body)
        except OptionalModuleMissing:
            raise
        except Exception as exc:
            raise DeserializationError(f"{type(exc).__name__}: {exc}") from exc


class DillCallableSerializer(DillSerializer):
    """dill for functions (Parsl's ``b'C2'``, a code method); needs ``pip install dill``."""

    identifier = b"C2"

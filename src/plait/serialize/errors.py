"""Parsl's ``parsl.serialize.errors`` path: serialization error classes."""

from plait._errors import DeserializationError as DeserializationError
from plait._errors import SerializationError as SerializationError

__all__ = ["DeserializationError", "SerializationError"]

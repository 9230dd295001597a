"""Parsl's ``parsl.serialize.errors`` path: serialization error classes."""

from plait._errors import DeserializationError as DeserializationError
from plait._errors import SerializationError as SerializationError
from plait.serialize._methods import DeserializerPluginError as DeserializerPluginError

__all__ = ["DeserializationError", "DeserializerPluginError", "SerializationError"]

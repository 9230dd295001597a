"""Parsl's ``parsl.serialize.base`` path: SerializerBase."""

from plait.serialize._concretes import SerializerBase as SerializerBase

__all__ = ["SerializerBase"]

"""Parsl's ``parsl.serialize.concretes`` path: PickleSerializer and DillSerializer."""

from plait.serialize._concretes import DillSerializer as DillSerializer
from plait.serialize._concretes import PickleSerializer as PickleSerializer

__all__ = ["DillSerializer", "PickleSerializer"]

"""Parsl's ``parsl.serialize.concretes`` path: PickleSerializer, DillSerializer and
DillCallableSerializer (select one with ``plait.serialize.facade.register_method_for_*``)."""

from plait.serialize._concretes import DillCallableSerializer as DillCallableSerializer
from plait.serialize._concretes import DillSerializer as DillSerializer
from plait.serialize._concretes import PickleSerializer as PickleSerializer

__all__ = ["DillCallableSerializer", "DillSerializer", "PickleSerializer"]

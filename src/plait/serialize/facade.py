"""Parsl's ``parsl.serialize.facade`` path: choose the serializer for data and for code.

    from plait.serialize.facade import register_method_for_data
    from plait.serialize.concretes import PickleSerializer
    register_method_for_data(PickleSerializer())

A registered method applies to what this process sends (task arguments, or functions, and
``serialize``); receivers read each payload with the method it names, importing
``b"<module> <ClassName>"`` identifiers. ``clear_methods()`` goes back to plait's default
(pickle protocol 5 with cloudpickle, out-of-band buffers for large arrays).
"""

from __future__ import annotations

from plait.serialize._methods import clear as clear_methods
from plait.serialize._methods import register_code as register_method_for_code
from plait.serialize._methods import register_data as register_method_for_data
from plait.serialize._pack import deserialize as deserialize
from plait.serialize._pack import pack_apply_message as pack_apply_message
from plait.serialize._pack import serialize as serialize
from plait.serialize._pack import unpack_apply_message as unpack_apply_message

__all__ = ["clear_methods", "deserialize", "pack_apply_message", "register_method_for_code",
           "register_method_for_data", "serialize", "unpack_apply_message"]

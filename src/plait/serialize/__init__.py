"""How functions, arguments and results cross a process boundary (Parsl's ``parsl.serialize``).

Internal layer (executors use it); not part of the public API.
"""

from plait.serialize._funcs import FunctionCache as FunctionCache
from plait.serialize._funcs import FunctionTable as FunctionTable
from plait.serialize._funcs import digest_of as digest_of
from plait.serialize._pack import deserialize as deserialize
from plait.serialize._pack import pack_apply_message as pack_apply_message
from plait.serialize._pack import pack_call as pack_call
from plait.serialize._pack import pack_exception as pack_exception
from plait.serialize._pack import pack_value as pack_value
from plait.serialize._pack import serialize as serialize
from plait.serialize._pack import unpack_apply_message as unpack_apply_message
from plait.serialize._pack import unpack_call as unpack_call
from plait.serialize._pack import unpack_value as unpack_value

__all__ = [
    "FunctionCache",
    "FunctionTable",
    "deserialize",
    "digest_of",
    "pack_apply_message",
    "pack_call",
    "pack_exception",
    "pack_value",
    "serialize",
    "unpack_apply_message",
    "unpack_call",
    "unpack_value",
]

"""The serialization layer: function cache, frames with out-of-band buffers, errors that name."""

from __future__ import annotations

import gc
import operator
import pickle
import threading

import pytest

from plait._errors import DeserializationError, SerializationError
from plait.serialize import (
    FunctionCache,
    FunctionTable,
    deserialize,
    pack_apply_message,
    pack_call,
    pack_exception,
    pack_value,
    serialize,
    unpack_apply_message,
    unpack_call,
    unpack_value,
)


def test_function_pickled_once_per_object(monkeypatch):
    import plait.serialize._funcs as funcs

    calls = []
    real = funcs.dumps_function
    monkeypatch.setattr(funcs, "dumps_function", lambda f: calls.append(f) or real(f))
    cache = FunctionCache()

    def f(x):
        return x + 1

    d1, body = cache.get(f)
    d2, _ = cache.get(f)
    assert d1 == d2 and len(d1) == 16 and len(calls) == 1
    table = FunctionTable()
    assert table.add(d1, body)(1) == 2 and d1 in table


def test_cache_drops_dead_functions_and_handles_builtins():
    cache = FunctionCache()

    def g():
        return 1

    cache.get(g)
    assert len(cache._weak) == 1
    del g
    gc.collect()
    assert len(cache._weak) == 0
    d, body = cache.get(operator.add)  # not weak-referenceable
    assert cache.get(operator.add)[0] == d
    assert pickle.loads(body) is operator.add


def test_unpicklable_argument_is_named():
    with pytest.raises(SerializationError, match="argument 1 \\(lock\\)"):
        pack_call((1, threading.Lock()), {})
    with pytest.raises(SerializationError, match="keyword argument 'gen'"):
        pack_call((), {"gen": (i for i in range(3))})
    with pytest.raises(SerializationError, match="function"):
        FunctionCache().get(threading.Lock())  # type: ignore[arg-type]


class Blob:
    """Exposes its data as a protocol-5 buffer, as numpy arrays do."""

    def __init__(self, data: bytearray) -> None:
        self.data = data

    def __reduce_ex__(self, protocol):
        return Blob, (pickle.PickleBuffer(self.data),)


def test_out_of_band_buffers_travel_as_frames():
    frames = pack_call((Blob(bytearray(b"a" * 100_000)),), {"k": 1})
    assert len(frames) == 2 and len(frames[0]) < 1000
    args, kwargs = unpack_call([memoryview(f) for f in frames])
    assert bytes(args[0].data) == b"a" * 100_000 and kwargs == {"k": 1}


def test_result_and_exception_round_trip():
    assert unpack_value(pack_value({"a": [1, 2]})) == {"a": [1, 2]}
    with pytest.raises(SerializationError, match="result \\(generator\\)"):
        pack_value(i for i in range(2))

    def inner():
        raise KeyError("k")

    try:
        try:
            inner()
        except KeyError as exc:
            raise RuntimeError("outer") from exc
    except RuntimeError as exc:
        back = unpack_value(pack_exception(exc))
    assert isinstance(back, RuntimeError) and isinstance(back.__cause__, KeyError)
    assert back.__traceback__ is not None
    assert back.__cause__.__traceback__.tb_next.tb_frame.f_code.co_name == "inner"


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("nope")


def test_unpicklable_exception_becomes_serialization_error_with_text():
    try:
        raise Unpicklable("bad thing")
    except Unpicklable as exc:
        back = unpack_value(pack_exception(exc))
    assert isinstance(back, SerializationError)
    assert "Unpicklable" in str(back) and "bad thing" in str(back)


def test_bad_bytes_raise_deserialization_error():
    with pytest.raises(DeserializationError):
        unpack_value([b"not a pickle"])
    with pytest.raises(DeserializationError):
        FunctionTable().add(b"x" * 16, b"garbage")
    with pytest.raises(DeserializationError):
        deserialize(b"junk")


def test_parsl_compatible_api():
    assert deserialize(serialize([1, "a"])) == [1, "a"]
    func, args, kwargs = unpack_apply_message(pack_apply_message(operator.add, (1, 2), {}))
    assert func(*args, **kwargs) == 3


def test_large_bytes_travel_out_of_band_and_keep_their_type():
    big, arr = b"b" * 100_000, bytearray(b"a" * 70_000)
    frames = pack_call((big, 1), {"k": arr})
    assert len(frames) == 3 and len(frames[0]) < 1000
    args, kwargs = unpack_call([memoryview(f) for f in frames])
    assert args == (big, 1) and type(args[0]) is bytes
    assert kwargs["k"] == arr and type(kwargs["k"]) is bytearray
    out = pack_value(big)
    assert len(out) == 2
    back = unpack_value([memoryview(f) for f in out])
    assert back == big and type(back) is bytes

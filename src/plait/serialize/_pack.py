"""Arguments, results and exceptions as lists of frames (pickle protocol 5, out-of-band buffers).

A payload is ``[stream, *buffers]``: the cloudpickle stream, then each out-of-band buffer
(numpy arrays, bytearrays) as its own frame, so a large array crosses ZeroMQ without being
copied into the stream. Exceptions travel with their traceback and chained causes (tblib).
"""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Sequence
from typing import Any

import cloudpickle

from plait._errors import DeserializationError, SerializationError
from plait.serialize import _methods
from plait.serialize._methods import DeserializerPluginError

log = logging.getLogger(__name__)
Frame = Any  # bytes, memoryview, pickle.PickleBuffer or zmq.Frame: anything with a buffer
_PROTOCOL = 5
_OUT_OF_BAND_MIN = 1 << 16


class _OutOfBand:
    """Carries a large bytes/bytearray argument or result as its own frame.

    Pickle keeps ``bytes`` in the stream (a copy, and the stream is then scanned); wrapped,
    the object's own memory is sent as a frame and rebuilt as the same type on arrival.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return type(self.data), (pickle.PickleBuffer(self.data),)


class _View:
    """Carries a memoryview (which pickle refuses) as its bytes, rebuilt as a memoryview of
    the same format and shape over a writable copy; out of band when large."""

    __slots__ = ("view",)

    def __init__(self, view: memoryview) -> None:
        self.view = view

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        view = self.view
        data: Any = view.tobytes() if not view.c_contiguous else view.cast("B")
        if view.nbytes >= _OUT_OF_BAND_MIN:
            data = pickle.PickleBuffer(data)
        return _rebuild_view, (data, view.format, view.shape)


def _rebuild_view(data: Any, fmt: str, shape: tuple[int, ...]) -> memoryview:
    view = memoryview(bytearray(data))
    return view if fmt == "B" and len(shape) == 1 else view.cast(fmt, shape)  # type: ignore[call-overload]


def _big(value: object) -> bool:
    kind = type(value)
    return kind is memoryview or (
        (kind is bytes or kind is bytearray) and len(value) >= _OUT_OF_BAND_MIN)  # type: ignore[arg-type]


def _wrap(value: Any) -> Any:
    if type(value) is memoryview:
        return _View(value)
    return _OutOfBand(value) if _big(value) else value


def _dumps(obj: object) -> list[Frame]:
    method = _methods.DATA
    if method is not None:  # registered as in Parsl (plait.serialize.facade)
        return [_methods.dumps(method, obj)]
    # Fast path: the C pickler costs ~2 us where cloudpickle's costs ~15 us per call. It is
    # only kept when nothing refers to __main__, which the C pickler would send by name (a
    # worker cannot import the script's __main__); lambdas, closures and local classes make
    # it raise. Either way cloudpickle takes over, so the result is always what it gives.
    buffers: list[pickle.PickleBuffer] = []
    try:
        stream = pickle.dumps(obj, protocol=_PROTOCOL, buffer_callback=buffers.append)
        if b"__main__" not in stream:
            return [stream, *buffers]
    except Exception:
        pass
    buffers = []
    stream = cloudpickle.dumps(obj, protocol=_PROTOCOL, buffer_callback=buffers.append)
    return [stream, *buffers]


def _loads(frames: Sequence[Frame]) -> Any:
    first = frames[0]
    try:
        tagged = first[0] == 0  # bytes, byte memoryviews: the common case, inline
    except (TypeError, IndexError):
        tagged = _methods.is_tagged(first)
    if tagged:
        return _methods.loads(first)
    return pickle.loads(first, buffers=frames[1:])


def _culprit(args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """Name the first argument that does not pickle (called only after packing failed)."""
    named = [(f"argument {i} ({type(a).__name__})", a) for i, a in enumerate(args)]
    named += [(f"keyword argument {k!r} ({type(v).__name__})", v) for k, v in kwargs.items()]
    for name, value in named:
        try:
            cloudpickle.dumps(value, protocol=_PROTOCOL)
        except Exception:
            return name
    return "the arguments"


def pack_call(args: Sequence[Any], kwargs: dict[str, Any]) -> list[Frame]:
    """Frames for a call's arguments; raises SerializationError naming the bad argument."""
    payload: tuple[Any, Any] = (args, kwargs)
    if any(map(_big, args)) or any(map(_big, kwargs.values())):
        payload = (tuple(map(_wrap, args)), {k: _wrap(v) for k, v in kwargs.items()})
    try:
        return _dumps(payload)
    except Exception as exc:
        raise SerializationError(_culprit(args, kwargs), f"{type(exc).__name__}: {exc}") \
            from exc


def unpack_call(frames: Sequence[Frame]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Inverse of :func:`pack_call`; raises DeserializationError naming the cause."""
    try:
        args, kwargs = _loads(frames)
    except DeserializerPluginError:
        raise  # already says what to do
    except Exception as exc:
        raise DeserializationError(
            f"the task's arguments could not be loaded ({type(exc).__name__}: {exc})") from exc
    return args, kwargs


def pack_value(value: object, what: str = "result") -> list[Frame]:
    """Frames for a task's result; raises SerializationError naming ``what``."""
    try:
        return _dumps(_wrap(value))
    except Exception as exc:
        raise SerializationError(f"{what} ({type(value).__name__})",
                                 f"{type(exc).__name__}: {exc}") from exc


def unpack_value(frames: Sequence[Frame]) -> Any:
    """Inverse of :func:`pack_value` and :func:`pack_exception`."""
    try:
        return _loads(frames)
    except DeserializerPluginError:
        raise  # already says what to do
    except Exception as exc:
        raise DeserializationError(
            f"a task's result could not be loaded ({type(exc).__name__}: {exc})") from exc


def pack_exception(exc: BaseException) -> list[Frame]:
    """Frames for an exception with its remote traceback and causes.

    If the exception itself does not pickle, a SerializationError carrying its type, message
    and formatted traceback travels instead, so the user still sees what went wrong.
    """
    from tblib import pickling_support

    try:
        pickling_support.install(exc)
        return _dumps(exc)
    except Exception as err:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        stand_in = SerializationError(
            f"exception {type(exc).__name__} raised by the task",
            f"{type(err).__name__}: {err}. The task failed with:\n{text}")
        return _dumps(stand_in)


def serialize(obj: object, buffer_threshold: int = 1_000_000) -> bytes:
    """Pickle ``obj`` into one bytes object (Parsl's ``serialize``): with the method
    registered by ``plait.serialize.facade`` if there is one (the code method for callables,
    the data method for the rest), and a logged warning if it exceeds ``buffer_threshold``."""
    try:
        method = _methods.CODE if callable(obj) else _methods.DATA
        if method is not None:
            body = _methods.dumps(method, obj)
        else:
            body = cloudpickle.dumps(obj, protocol=_PROTOCOL)
    except Exception as exc:
        raise SerializationError(type(obj).__name__, f"{type(exc).__name__}: {exc}") from exc
    if len(body) > buffer_threshold:
        log.warning("serialized %s is %d bytes, over buffer_threshold=%d",
                    type(obj).__name__, len(body), buffer_threshold)
    return body


def deserialize(payload: bytes | memoryview) -> Any:
    """Inverse of :func:`serialize` (Parsl's ``deserialize``)."""
    try:
        return _loads([payload])
    except DeserializerPluginError:
        raise  # already says what to do
    except Exception as exc:
        raise DeserializationError(f"{type(exc).__name__}: {exc}") from exc


def pack_apply_message(func: Any, args: Sequence[Any], kwargs: dict[str, Any],
                       buffer_threshold: int = 128_000_000) -> bytes:
    """One buffer holding a function and its arguments (Parsl's ``pack_apply_message``); a
    logged warning if it exceeds ``buffer_threshold`` bytes."""
    from plait.serialize._funcs import dumps_function

    body = dumps_function(func)
    try:  # in-band buffers: this API returns a single bytes object
        call = cloudpickle.dumps((tuple(args), dict(kwargs)), protocol=_PROTOCOL)
    except Exception as exc:
        raise SerializationError(_culprit(args, kwargs), f"{type(exc).__name__}: {exc}") \
            from exc
    return serialize((body, call), buffer_threshold)


def unpack_apply_message(packed_buffer: bytes | memoryview) -> list[Any]:
    """Inverse of :func:`pack_apply_message`: ``[func, args, kwargs]``."""
    body, call = deserialize(packed_buffer)
    args, kwargs = unpack_call([call])
    return [deserialize(body), args, kwargs]

"""Function cache: each function object is pickled once, and named by a digest on the wire.

Tasks of one app share one function object. The submitting side pickles it on first use and
keys the bytes by the object's identity (a weak reference, so a dropped function frees its
entry); the wire carries the 16-byte digest of those bytes, and the body travels only to the
processes that have not seen it yet. The receiving side keeps deserialized functions by digest.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import cloudpickle

from plait._errors import DeserializationError, SerializationError
from plait.serialize import _methods

DIGEST_SIZE = 16
# Objects that refuse weak references (builtins, partials, bound methods) are kept by id in a
# bounded table holding a strong reference, so the id cannot be reused while it is cached.
_STRONG_LIMIT = 1024


def digest_of(body: bytes) -> bytes:
    """The wire name of a pickled function: a 16-byte BLAKE2b digest of its bytes."""
    return hashlib.blake2b(body, digest_size=DIGEST_SIZE).digest()


def _name(func: object) -> str:
    return getattr(func, "__qualname__", None) or type(func).__name__


class FunctionCache:
    """Submitter side: function object -> (digest, pickled bytes), pickled once per object."""

    def __init__(self) -> None:
        self._weak: weakref.WeakKeyDictionary[Any, tuple[bytes, bytes]] = (
            weakref.WeakKeyDictionary())
        self._strong: OrderedDict[int, tuple[object, bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, func: Callable[..., Any]) -> tuple[bytes, bytes]:
        """Return ``(digest, body)`` for ``func``; raises SerializationError naming it."""
        try:
            hit = self._weak.get(func)
        except TypeError:
            hit = None
            strong = self._strong.get(id(func))
            if strong is not None and strong[0] is func:
                return strong[1], strong[2]
        if hit is not None:
            return hit
        body = dumps_function(func)
        entry = (digest_of(body), body)
        with self._lock:
            try:
                self._weak[func] = entry
            except TypeError:
                self._strong[id(func)] = (func, *entry)
                if len(self._strong) > _STRONG_LIMIT:
                    self._strong.popitem(last=False)
        return entry


def dumps_function(func: Callable[..., Any]) -> bytes:
    """Pickle a function: by reference when importable, by value otherwise (cloudpickle);
    or with the code method registered by ``plait.serialize.facade.register_method_for_code``."""
    try:
        method = _methods.CODE
        if method is not None:
            return _methods.dumps(method, func)
        return cloudpickle.dumps(func, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise SerializationError(f"function {_name(func)}", f"{type(exc).__name__}: {exc}") \
            from exc


class FunctionTable:
    """Receiver side: digest -> deserialized function.

    Never evicts: the sender tracks which digests each receiver holds and sends a body only
    once, so dropping one here would strand later tasks. An app has one function object.
    """

    def __init__(self) -> None:
        self._funcs: dict[bytes, Callable[..., Any]] = {}

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._funcs

    def get(self, digest: bytes) -> Callable[..., Any] | None:
        """The function for ``digest``, or None if its body has not arrived."""
        return self._funcs.get(digest)

    def add(self, digest: bytes, body: bytes | memoryview) -> Callable[..., Any]:
        """Deserialize and keep ``body``; raises DeserializationError naming the cause."""
        try:
            func: Callable[..., Any] = (_methods.loads(body) if _methods.is_tagged(body)
                                        else pickle.loads(body))
        except _methods.DeserializerPluginError:
            raise  # already says what to do
        except Exception as exc:
            raise DeserializationError(
                f"the task's function could not be loaded here ({type(exc).__name__}: {exc}); "
                "is the module that defines it importable on the worker?") from exc
        self._funcs[digest] = func
        return func

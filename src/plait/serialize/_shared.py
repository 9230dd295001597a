"""Objects sent once: a large argument that many tasks share travels once per receiver.

    submitter: a large buffer argument (bytes, bytearray, memoryview, anything with an int
    ``nbytes`` such as a numpy array) seen again in a later task is replaced in the pickled
    call by ``SharedRef(digest)``; its own frames travel once, keyed by a content digest.
    interchange, manager: keep the frames by digest; send them once per downstream receiver.
    worker: keeps the frames; each task rebuilds a fresh object from them (a task that
    mutates its argument never changes what the next task receives).

Each sender keeps a :class:`Ledger` of what its receiver holds: a size bound, least recently
used order, and a pin per task in flight that needs an entry. Receivers never evict on their
own; the sender tells them what to drop and re-sends a dropped entry when a task needs it
again, so a receiver never runs a task without the entry it names.

The digest is a SHA-256 of the object's pickled frames, computed at every submit (a mutated
array gets a new digest); ``bytes`` are immutable, so their digest is remembered by identity.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from plait.serialize._pack import _loads  # the same loader as every payload (methods too)

SHARE_MIN = 1 << 20  # bytes: smaller arguments travel inline with every task
_SEEN_LIMIT = 16  # large objects remembered by identity, to notice the second use


def frames_size(frames: Sequence[Any]) -> int:
    """Total bytes of a list of buffers."""
    return sum(memoryview(f).nbytes for f in frames)


def digest_frames(frames: Sequence[Any]) -> bytes:
    """A 16-byte content digest of pickled frames (SHA-256; fast with SHA-NI)."""
    h = hashlib.sha256()
    for f in frames:
        h.update(f)
        h.update(len(memoryview(f).cast("B")).to_bytes(8, "little"))
    return h.digest()[:16]


def size_hint(value: object) -> int:
    """The bytes a buffer-like argument holds, without pickling it (0: not buffer-like)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return len(value)  # type: ignore[arg-type]
    if kind is memoryview:
        return value.nbytes  # type: ignore[attr-defined]
    if hasattr(kind, "nbytes"):
        nbytes = getattr(value, "nbytes", None)
        if type(nbytes) is int:
            return nbytes
    return 0


# How a worker rebuilds a shared argument for each task:
FRESH = 0  # from fresh copies of its buffers (arrays: the object is a view of its buffer)
BUILT_ONCE = 1  # once, then the same object for every task (bytes: no task can change it)
COPIED = 2  # from the held buffers, as rebuilding copies them (bytearray, memoryview)


def rebuild_mode(value: object) -> int:
    """How a worker must rebuild ``value`` so that no task sees another task's changes."""
    kind = type(value)
    if kind is bytes:
        return BUILT_ONCE
    return COPIED if kind is bytearray or kind is memoryview else FRESH


class SharedRef:
    """Stands in the pickled call for a shared argument; rebuilt from the worker's store."""

    __slots__ = ("digest", "mode")

    def __init__(self, digest: bytes, mode: int = FRESH) -> None:
        self.digest, self.mode = digest, mode

    def __reduce__(self) -> tuple[Any, ...]:
        return _resolve, (self.digest, self.mode)


# The worker's store: digest -> frames, and the objects built once (immutable ones).
_store: dict[bytes, list[Any]] = {}
_built: dict[bytes, Any] = {}


def worker_store() -> dict[bytes, list[Any]]:
    """The process-wide store that :class:`SharedRef` resolves against (worker side)."""
    return _store


def hold(digest: bytes, frames: list[Any]) -> None:
    """Keep a shared argument's frames (worker side)."""
    _store[digest] = frames


def forget(digest: bytes) -> None:
    """Drop a shared argument, as its sender said (worker side)."""
    _store.pop(digest, None)
    _built.pop(digest, None)


def _resolve(digest: bytes, mode: int = FRESH) -> Any:
    if mode == BUILT_ONCE and digest in _built:
        return _built[digest]
    frames = _store.get(digest)
    if frames is None:
        raise LookupError(f"shared argument {digest.hex()} is not held by this worker "
                          "(a plait bug: its sender should have sent it first)")
    if mode == BUILT_ONCE:
        value = _built[digest] = _loads(frames)
        _store[digest] = []  # the object holds its own copy: free the received frames
        return value
    if mode == COPIED:  # read-only views: rebuilding copies them, and must not change them
        return _loads([frames[0], *(memoryview(b).toreadonly() for b in frames[1:])])
    # Fresh, writable buffers: what one task does to its argument no other task sees.
    return _loads([frames[0], *(bytearray(b) for b in frames[1:])])


class Ledger:
    """What one receiver holds: digest -> size, in least recently used order, with pins.

    ``need`` pins an entry for a task and says whether to send it and what to drop first so
    the total stays within ``limit``; ``release`` unpins it when the task is done. Pinned
    entries are never dropped, so one entry larger than the limit is still held while used.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sizes: OrderedDict[bytes, int] = OrderedDict()
        self.pins: dict[bytes, int] = {}
        self.total = 0

    def __contains__(self, digest: bytes) -> bool:
        return digest in self.sizes

    def need(self, digest: bytes, size: int) -> tuple[bool, list[bytes]]:
        """Pin ``digest`` for one task; returns (send it now, digests to drop before)."""
        self.pins[digest] = self.pins.get(digest, 0) + 1
        if digest in self.sizes:
            self.sizes.move_to_end(digest)
            return False, []
        dropped = []
        for old in list(self.sizes):
            if self.total + size <= self.limit:
                break
            if old not in self.pins:
                self.total -= self.sizes.pop(old)
                dropped.append(old)
        self.sizes[digest] = size
        self.total += size
        return True, dropped

    def offer(self, refs: Iterable[bytes], held: Mapping[bytes, list[Any]],
              sent: list[tuple[bytes, int]], dropped: list[bytes], frames: list[Any]) -> None:
        """Pin each of ``refs`` for one task, adding to a message for this receiver: the
        digests it must drop first, and (digest, frame count) plus the frames of those it
        lacks. ``held`` has every digest's frames."""
        for ref in refs:
            entry = held[ref]
            send, drop = self.need(ref, frames_size(entry))
            dropped += drop
            if send:
                sent.append((ref, len(entry)))
                frames += entry

    def release(self, digest: bytes) -> None:
        """One task that needed ``digest`` is done with it."""
        left = self.pins.get(digest, 0) - 1
        if left > 0:
            self.pins[digest] = left
        else:
            self.pins.pop(digest, None)


class SharedArgs:
    """Submitter side: notices a large argument passed again, and names it by content."""

    def __init__(self) -> None:
        # id -> (reference, digest of bytes or None); a reference keeps the id from reuse.
        self._seen: OrderedDict[int, tuple[Any, bytes | None]] = OrderedDict()

    def _remember(self, value: Any) -> bool:
        """Record ``value``; True when it was seen before (so it is shared)."""
        key = id(value)
        hit = self._seen.get(key)
        if hit is not None:
            ref = hit[0]
            if (ref() if isinstance(ref, weakref.ref) else ref) is value:
                self._seen.move_to_end(key)
                return True
        try:
            ref = weakref.ref(value)
        except TypeError:  # bytes, bytearray, memoryview: held (bounded) instead
            ref = value
        self._seen[key] = (ref, None)
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
        return False

    def split(self, args: Sequence[Any], kwargs: dict[str, Any], dumps: Any
              ) -> tuple[tuple[Any, ...], dict[str, Any], list[tuple[bytes, list[Any]]]]:
        """Replace shared large arguments by references; returns them with their frames."""
        shared: list[tuple[bytes, list[Any]]] = []

        def swap(value: Any) -> Any:
            if size_hint(value) < SHARE_MIN or not self._remember(value):
                return value
            key = id(value)
            ref, digest = self._seen[key]
            frames = dumps(value)
            if digest is None:
                digest = digest_frames(frames)
                if type(value) is bytes:  # immutable: the same object, the same digest
                    self._seen[key] = (ref, digest)
            shared.append((digest, frames))
            return SharedRef(digest, rebuild_mode(value))

        new_args = tuple(swap(a) for a in args)
        new_kwargs = {k: swap(v) for k, v in kwargs.items()}
        return new_args, new_kwargs, shared

"""The checkpoint store: an append-only file of CRC-checked records, one per completed task.

File ``<run_dir>/checkpoint/tasks.ckpt``::

    header  b"PLAITCK\\x01"
    record  <u64 payload length> <u32 crc32 of payload> payload
    payload <u8 n> <n bytes: hash, ascii> <pickled result>

Crash safety: records go to the kernel with ``os.write`` on an O_APPEND descriptor, with no
user-space buffer kept between calls (see CheckpointWriter for how concurrent completions
share one call). Once ``write`` returns, the records survive the death
of the process (kill -9) because they are in the OS page cache; only a power loss or OS crash
can lose them before the file is synced (plait syncs at ``close()``). A process killed in the
middle of a ``write`` leaves at most one torn record at the end: the reader detects it by its
length or CRC, warns with the file and byte offset, and keeps every record before it.

Loading a store checks every record and indexes it by hash: small results are kept as their
pickled bytes, large ones as ``(file, offset, length)``, read back only if a task asks for
them. Results are unpickled only on a hit, so an unloadable record costs one task re-run.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from typing import NamedTuple

from plait._errors import BadCheckpoint

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "tasks.ckpt"
MAGIC = b"PLAITCK\x01"
_FRAME = struct.Struct("<QI")
_NUMBERED = re.compile(r"^\d+$")


class CheckpointWarning(UserWarning):
    """A checkpoint store is damaged or a result could not be checkpointed."""


def frame(hashsum: str, pickled: bytes) -> bytes:
    """One record, ready to append."""
    payload = bytes((len(hashsum),)) + hashsum.encode("ascii") + pickled
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class CheckpointWriter:
    """Appends records to one store file; the directory and file appear on first write.

    Group commit: whichever thread holds ``_io`` writes everything buffered; a thread that
    finds ``_io`` taken leaves its record in the buffer and returns, and the holder writes
    it before letting go. Under a burst of completions that turns one system call per task
    into one per batch (and each call hands the GIL around). A record left to another
    thread reaches the OS within that thread's current ``write``.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, CHECKPOINT_FILE)
        self._fd: int | None = None
        self._lock = threading.Lock()  # guards _buffer and _closed, never held for I/O
        self._io = threading.Lock()  # held by the one thread writing to the file
        self._buffer: list[bytes] = []
        self._closed = False

    def append(self, data: bytes) -> bool:
        """Write framed records; False (and nothing written) once closed."""
        with self._lock:
            if self._closed:
                return False
            self._buffer.append(data)
        # Re-check after letting go of _io: a record buffered while we held it, by a thread
        # that then failed to take _io, is ours to write.
        while self._buffer and self._io.acquire(blocking=False):
            try:
                self._write_buffer()
            finally:
                self._io.release()
        return True

    def _write_buffer(self) -> None:
        """Write out the buffer (called holding ``_io``)."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return
        if self._fd is None:
            self._fd = self._open()
        view = memoryview(b"".join(batch) if len(batch) > 1 else batch[0])
        while view:  # a regular file takes it all at once unless the disk is full
            view = view[os.write(self._fd, view):]

    def _open(self) -> int:
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(fd).st_size == 0:
            os.write(fd, MAGIC)
        return fd

    def close(self) -> None:
        """Write what is buffered, sync to disk and close; later appends are refused."""
        with self._lock:
            self._closed = True
        # a write in progress ends within one system call
        if not self._io.acquire(timeout=60):
            log.error("checkpoint store %s: a write did not finish within 60 s", self.path)
            return
        try:
            self._write_buffer()
            fd, self._fd = self._fd, None
            if fd is not None:
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        finally:
            self._io.release()


class RecordRef(NamedTuple):
    """Where one checkpointed result lives."""

    path: str
    offset: int
    length: int


def store_path(location: str) -> str:
    """The store file of a checkpoint directory (or the file itself if given one)."""
    return location if os.path.isfile(location) else os.path.join(location, CHECKPOINT_FILE)


#: results up to this size stay in memory as pickled bytes after loading
KEEP_BYTES = 64 * 1024


def scan(path: str) -> Iterator[tuple[str, RecordRef, bytes]]:
    """Yield ``(hash, where, pickled result)`` for every intact record of the store at
    ``path``, in order.

    Damage (bad header, torn or corrupt record) ends the scan with a CheckpointWarning that
    names the file and byte offset; the records before it are still yielded.
    """
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            _damaged(path, 0, "it does not start with the plait checkpoint header "
                              "(not a plait checkpoint, or written by a newer plait)")
            return
        offset = len(MAGIC)
        while True:
            head = f.read(_FRAME.size)
            if not head:
                return
            if len(head) < _FRAME.size:
                _damaged(path, offset, "the last record is truncated (the run was probably "
                                       "killed while writing it, or is still running)")
                return
            length, crc = _FRAME.unpack(head)
            payload = f.read(length)
            if len(payload) < length:
                _damaged(path, offset, "the last record is truncated (the run was probably "
                                       "killed while writing it, or is still running)")
                return
            # a damaged length field shows up too: the CRC is then taken over the wrong span
            if zlib.crc32(payload) != crc or not payload:
                _damaged(path, offset, "a record fails its CRC check (the file is corrupt)")
                return
            key_len = payload[0]
            start = offset + _FRAME.size + 1 + key_len
            yield (payload[1:1 + key_len].decode("ascii"),
                   RecordRef(path, start, length - 1 - key_len), payload[1 + key_len:])
            offset += _FRAME.size + length


def _damaged(path: str, offset: int, reason: str) -> None:
    message = (f"checkpoint {path} is damaged at byte {offset}: {reason}; using the records "
               "before that point, and the tasks after it will run again")
    log.warning("%s", message)
    warnings.warn(message, CheckpointWarning, stacklevel=4)


def read_result(entry: RecordRef | tuple[RecordRef, bytes]) -> object:
    """Unpickle one checkpointed result (from memory, or read back from its file).

    Raises:
        BadCheckpoint: the file went away or the result cannot be unpickled here.
    """
    ref, data = (entry, None) if isinstance(entry, RecordRef) else entry
    try:
        if data is None:
            with open(ref.path, "rb") as f:
                f.seek(ref.offset)
                data = f.read(ref.length)
            if len(data) != ref.length:
                raise EOFError(f"only {len(data)} of {ref.length} bytes left")
        return pickle.loads(data)
    except Exception as exc:
        raise BadCheckpoint(f"cannot load the result at byte {ref.offset} of {ref.path}: "
                            f"{exc!r}") from exc


def load_index(locations: list[str], *,
               explicit: bool) -> dict[str, RecordRef | tuple[RecordRef, bytes]]:
    """Index every record of the stores in ``locations`` (directories or store files);
    later records override earlier ones.

    Raises:
        BadCheckpoint: an ``explicit`` location does not exist.
    """
    index: dict[str, RecordRef | tuple[RecordRef, bytes]] = {}
    for location in locations:
        if not os.path.exists(location):
            if explicit:
                raise BadCheckpoint(f"checkpoint_files names {location!r}, which does not "
                                    "exist; list checkpoint directories such as "
                                    "runinfo/003/checkpoint (plait.utils.get_all_checkpoints)")
            continue
        path = store_path(location)
        if not os.path.isfile(path):
            continue  # that run finished nothing cacheable
        before = len(index)
        for key, ref, data in scan(path):
            index[key] = (ref, data) if len(data) <= KEEP_BYTES else ref
        log.info("loaded %d checkpoint records from %s", len(index) - before, path)
    return index


def _numbered_runs(rundir: str) -> list[str]:
    try:
        names = [n for n in os.listdir(rundir) if _NUMBERED.match(n)]
    except FileNotFoundError:
        return []
    return [os.path.join(rundir, n) for n in sorted(names, key=int)]


def get_all_checkpoints(rundir: str = "runinfo") -> list[str]:
    """The checkpoint directories of every run under ``rundir``, oldest first.

    Runs are ordered by number (``1000`` after ``999``), so when they are loaded together
    the most recent result of a task wins.
    """
    return [os.path.abspath(c) for c in
            (os.path.join(run, CHECKPOINT_DIR) for run in _numbered_runs(rundir))
            if os.path.isdir(c)]


def get_last_checkpoint(rundir: str = "runinfo") -> list[str]:
    """A list holding the checkpoint directory of the most recent run under ``rundir``
    that has one, or an empty list."""
    found = get_all_checkpoints(rundir)
    return found[-1:]

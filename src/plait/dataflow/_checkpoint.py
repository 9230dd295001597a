"""The checkpoint store: an append-only file of CRC-checked records, one per completed task.

File ``<run_dir>/checkpoint/tasks.ckpt``::

    header  b"PLAITCK\\x01"
    record  <u64 payload length> <u32 crc32 of payload> payload
    payload <u8 n> <n bytes: hash, ascii> <pickled result>

Crash safety: a writer thread appends records with ``os.write`` on an O_APPEND descriptor
a few milliseconds at most after their tasks complete (see CheckpointWriter for why a
thread). Once ``write`` returns, the records survive the death of the process (kill -9)
because they are in the OS page cache; only a power loss or OS crash
can lose them before the file is synced (plait syncs at ``close()``). A process killed in the
middle of a ``write`` leaves at most one torn record at the end: the reader detects it by its
length or CRC, warns with the file and byte offset, and keeps every record before it.
So a kill -9 costs at most the records of the tasks that completed in its last few
milliseconds: those tasks run again next time; no result is ever wrong.

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
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

from plait._errors import BadCheckpoint

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "tasks.ckpt"
MAGIC = b"PLAITCK\x01"
_FRAME = struct.Struct("<QI")
_NUMBERED = re.compile(r"^\d+$")
#: how long the writer waits for more records before writing (seconds), and how many
#: queued records make it write without waiting
LINGER = 0.002
BATCH = 256


class CheckpointWarning(UserWarning):
    """A checkpoint store is damaged or a result could not be checkpointed."""


def frame(hashsum: str, pickled: bytes) -> bytes:
    """One record, ready to append."""
    payload = bytes((len(hashsum),)) + hashsum.encode("ascii") + pickled
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class CheckpointWriter:
    """Appends records to one store file from its own thread; the directory, file and
    thread appear on first use.

        completing threads ──append()──▶ deque ──▶ writer thread ──os.write──▶ file
                           ring the bell (only if the writer sleeps) ──┘

    Why a thread: ``os.write`` releases the GIL, and a thread that releases the GIL waits
    to get it back behind every busy thread (up to the 5 ms switch interval). Done on the
    executor's threads, that wait stalled task completions. Why no Condition: a completing
    thread must never block on a lock the writer holds, for the same reason; ``deque``
    appends are atomic and the bell is a plain lock released without blocking.

    A record reaches the OS within about LINGER (2 ms) of its task's completion, plus
    scheduling delay; ``flush()`` waits for everything appended before it.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, CHECKPOINT_FILE)
        self._fd: int | None = None
        self._queue: deque[bytes | threading.Event] = deque()
        self._bell = threading.Lock()
        self._bell.acquire()  # locked = nobody rang; append() releases it to wake the writer
        self._sleeping = False
        self._closed = False
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def append(self, data: bytes | threading.Event) -> bool:
        """Queue framed records for writing; False (and nothing queued) once closed."""
        if self._closed:
            return False
        self._queue.append(data)
        if self._thread is None:
            self._start()
        # The writer sets _sleeping before its last look at the queue, and we look at
        # _sleeping after appending: one of the two sees the other (the GIL orders them).
        if self._sleeping:
            self._sleeping = False
            self._ring()
        return True

    def _ring(self) -> None:
        try:
            self._bell.release()
        except RuntimeError:
            pass  # already rung

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                run = os.path.basename(os.path.dirname(self.directory))
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"plait-checkpoint-writer-{run}")
                self._thread.start()

    def _run(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                if self._closed:
                    return
                self._sleeping = True
                if not queue and not self._closed:
                    self._bell.acquire()  # no deadline: append(), flush() and close() ring
                self._sleeping = False
                # Linger so that a burst of completions shares one write and one wake-up;
                # flush() and close() ring the bell to cut it short.
                if len(queue) < BATCH and not self._closed:
                    self._bell.acquire(timeout=LINGER)
            batch: list[bytes] = []
            events: list[threading.Event] = []
            while queue:
                item = queue.popleft()
                if isinstance(item, threading.Event):
                    events.append(item)
                    break  # write what came before it, then tell flush()
                batch.append(item)
            if batch:
                try:
                    self._write(batch)
                except OSError:
                    log.exception("cannot write %d checkpoint records to %s; those tasks "
                                  "will run again in the next run", len(batch), self.path)
            for event in events:
                event.set()

    def _write(self, batch: list[bytes]) -> None:
        if self._fd is None:
            os.makedirs(self.directory, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        end = os.fstat(self._fd).st_size
        if end == 0:  # the header goes out with the first records, in the same write
            batch = [MAGIC, *batch]
        view = memoryview(b"".join(batch) if len(batch) > 1 else batch[0])
        try:
            while view:  # a regular file takes it all at once unless the disk is full
                view = view[os.write(self._fd, view):]
        except OSError:
            # Cut off a partly written batch, so that later batches are not appended after
            # a torn record (a reader stops at the first damage).
            os.ftruncate(self._fd, end)
            raise

    def flush(self, timeout: float = 60) -> bool:
        """Wait until everything appended so far is written; False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        if not self.append(done):
            return True  # closed: close() writes everything
        self._ring()
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued, sync to disk and close; later appends are refused."""
        self._closed = True
        self._ring()
        with self._start_lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=60)  # one write of what is left
            if thread.is_alive():
                log.error("checkpoint store %s: writing did not finish within 60 s", self.path)
                return
        # an append() that raced with close() may have queued after the writer's last look
        late = [item for item in self._queue if not isinstance(item, threading.Event)]
        self._queue.clear()
        if late:
            self._write(late)
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


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
        header = f.read(len(MAGIC))
        if header != MAGIC:
            if MAGIC.startswith(header):
                return  # created but nothing written yet (or killed at that moment): empty
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
            if os.path.isfile(os.path.join(location, "tasks.pkl")):
                message = (f"{location} holds a Parsl checkpoint (tasks.pkl), which plait "
                           "cannot use: its hashes are computed differently. Those tasks "
                           "run again and are checkpointed in plait's format.")
                log.warning("%s", message)
                warnings.warn(message, CheckpointWarning, stacklevel=3)
            continue  # otherwise: that run finished nothing cacheable
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

"""A message channel over a non-blocking stream socket, for a poll loop: executor ⇄ interchange.

The executor starts its interchange as a child and hands it one end of a socketpair: nothing
else can reach it (no port, no keys needed), and each message wakes only the thread that
reads it. Over ZeroMQ on TCP each message also wakes an I/O thread on both sides: a 100-byte
ping-pong between two processes on this project's 2-core machine took 80 to 150 µs over
ZeroMQ TCP and 14 to 16 µs over a socketpair.

Messages have the format of :mod:`._pipe`. Neither side ever blocks: :meth:`Channel.send`
writes what the socket takes and keeps the rest, in order, for :meth:`Channel.flush` (the
owner polls for POLLOUT while :attr:`Channel.pending`); :meth:`Channel.recv` returns the
messages complete so far and keeps a partial one. A large message is read straight into its
own buffer, and its frames are views into it (never copied by Python).

Not thread-safe: the owner serialises sends (the executor under its lock); one thread reads.
"""

from __future__ import annotations

import select
import socket
import time
from collections import deque
from collections.abc import Sequence
from itertools import islice
from typing import Any

from plait.executors.pilot._pipe import SIZE, decode, encode

_CHUNK = 1 << 18  # bytes read at a time while no large message is being assembled
_LARGE = 1 << 16  # a message at least this large is read into a buffer of its own
_IOV = 64  # buffers per sendmsg call


class Channel:
    """Framed messages over ``sock`` (made non-blocking here)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.fd = sock.fileno()
        self._out: deque[Any] = deque()  # buffers still to write, in order
        self._in = bytearray()  # received bytes not yet parsed
        self._scratch = memoryview(bytearray(_CHUNK))  # reused: a fresh large buffer per
        # read would cost an mmap and munmap each time
        self._big: bytearray | None = None  # a large message's body being read
        self._big_view: memoryview | None = None
        self._got = 0
        self.written = 0  # bytes written so far (the owner can tell progress)
        self.eof = False  # the other side closed (it exited)
        self.broken = False  # writing failed: the other side is gone

    # -- writing -------------------------------------------------------------------------------
    @property
    def pending(self) -> bool:
        """Bytes wait for room on the socket: poll for POLLOUT and call :meth:`flush`."""
        return bool(self._out)

    def send(self, frames: Sequence[Any], flush: bool = True) -> bool:
        """Queue one message and (``flush``) write what the socket takes; returns
        :attr:`pending`. Messages queued without flushing leave together, with one system
        call for many, at the next :meth:`flush`."""
        self._out.extend(encode(frames))
        return self.flush() if flush else True

    def flush(self) -> bool:
        """Write queued bytes until the socket is full; returns :attr:`pending`."""
        out = self._out
        while out:
            try:
                sent = self.sock.sendmsg(list(islice(out, _IOV)))
            except BlockingIOError:
                return True
            except OSError:  # EPIPE, ECONNRESET: the reader is gone, and so is its death
                self.broken = True  # descriptor's news, which the owner waits on
                out.clear()
                return False
            self.written += sent
            while sent:
                head = out[0]
                size = len(head) if isinstance(head, (bytes, bytearray)) else head.nbytes
                if sent >= size:
                    sent -= size
                    out.popleft()
                else:
                    out[0] = memoryview(head).cast("B")[sent:]
                    sent = 0
        return False

    def flush_for(self, seconds: float) -> None:
        """Write what waits, blocking up to ``seconds`` (before closing: last results)."""
        deadline = time.monotonic() + seconds
        while self.flush():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self.fd], [], remaining)[1]:
                return

    def close(self) -> None:
        """Close the socket (what still waits to be written is dropped)."""
        self._out.clear()
        self.sock.close()

    # -- reading -------------------------------------------------------------------------------
    @property
    def backlog(self) -> bool:
        """A complete message is already read and waits for :meth:`recv` (poll would not say)."""
        buf = self._in
        return (self._big is None and len(buf) >= 8
                and len(buf) - 8 >= SIZE.unpack_from(buf)[0])

    def recv(self, limit: int = 1 << 30) -> list[list[memoryview]]:
        """Read what has arrived; up to ``limit`` complete messages (as frames).

        Sets :attr:`eof` once the other side has closed and everything before is returned.
        """
        messages: list[list[memoryview]] = []
        while len(messages) < limit:
            if self._take(messages, limit):
                continue
            if not self._read():
                break
        return messages

    def _read(self) -> bool:
        """One read from the socket; False when nothing more is there (or at EOF)."""
        try:
            if self._big_view is not None:
                n = self.sock.recv_into(self._big_view[self._got:])
                self._got += n
            else:
                n = self.sock.recv_into(self._scratch)
                self._in += self._scratch[:n]
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # ECONNRESET: as good as closed
            n = 0
        if n == 0:
            self.eof = True
            return False
        return True

    def _take(self, messages: list[list[memoryview]], limit: int) -> bool:
        """Move complete messages to ``messages``; True if any was taken."""
        big = self._big
        if big is not None:
            if self._got < len(big):
                return False
            self._big = self._big_view = None
            messages.append(decode(big))
            return True
        buf, pos, taken = self._in, 0, False
        while len(messages) < limit and len(buf) - pos >= 8:
            size = SIZE.unpack_from(buf, pos)[0]
            start = pos + 8
            have = len(buf) - start
            if have >= size:
                messages.append(decode(bytes(buf[start:start + size])))
                pos, taken = start + size, True
            elif size >= _LARGE:  # read the rest straight into a buffer of its own
                big = bytearray(size)
                big[:have] = buf[start:]
                self._big, self._big_view, self._got = big, memoryview(big), have
                pos = len(buf)
                break
            else:
                break
        if pos:
            del buf[:pos]
        return taken

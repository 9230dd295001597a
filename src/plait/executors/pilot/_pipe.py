"""Messages between a manager and its workers over a socketpair: no broker, no I/O thread.

A message is a list of frames sent as ``[u64 size][u32 n][u64 len]*n [frame]*n``. The reader
takes the size, then the rest in one buffer, and hands back memoryviews into it, so a large
argument is copied once by the kernel and never by Python. ZeroMQ is not used here: between
two processes on one node a plain stream socket is cheaper (each ZeroMQ message would also
cross its I/O thread on both sides). :mod:`._channel` uses the same format, non-blocking.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Any

SIZE = struct.Struct("<Q")
_SMALL = 1 << 16  # below this, join the frames and send them with one call


def encode(frames: Sequence[Any]) -> list[Any]:
    """The buffers that carry ``frames`` (anything with the buffer protocol) as one message:
    one joined buffer for a small message; else the header, then each frame uncopied."""
    views = [f if isinstance(f, (bytes, bytearray)) else memoryview(f).cast("B")
             for f in frames]
    lens = [len(v) for v in views]
    head = struct.pack(f"<I{len(lens)}Q", len(lens), *lens)
    size = len(head) + sum(lens)
    if size < _SMALL:
        return [b"".join([SIZE.pack(size), head, *views])]
    return [SIZE.pack(size) + head, *views]


def decode(body: bytes | bytearray) -> list[memoryview]:
    """The frames of one message's body (what follows its size): views into ``body``."""
    (n,) = struct.unpack_from("<I", body)
    lens = struct.unpack_from(f"<{n}Q", body, 4)
    view = memoryview(body)
    pos = 4 + 8 * n
    frames = []
    for length in lens:
        frames.append(view[pos:pos + length])
        pos += length
    return frames


def send_msg(sock: socket.socket, frames: Sequence[Any]) -> None:
    """Send ``frames`` (anything with the buffer protocol) as one message."""
    for buf in encode(frames):
        sock.sendall(buf)


def _read_exact(sock: socket.socket, n: int) -> bytearray | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return buf


def recv_msg(sock: socket.socket) -> list[memoryview] | None:
    """Read one message; None when the other side has closed (it exited)."""
    size = _read_exact(sock, 8)
    if size is None:
        return None
    body = _read_exact(sock, SIZE.unpack(size)[0])
    if body is None:
        return None
    return decode(body)

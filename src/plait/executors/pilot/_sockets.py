"""Reading every waiting message from a ZeroMQ socket, shared by the pilot's processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import zmq

BATCH = 1000  # messages read from one socket before the caller gives its others a turn


def recv_frames(sock: zmq.Socket[Any]) -> list[zmq.Frame]:
    """Receive one multipart message as frames (blocking)."""
    # Each frame says whether more follow; pyzmq's recv_multipart asks the socket instead
    # (a getsockopt per frame), which costs more than receiving the frame.
    recv = sock.recv
    frame = recv(0, False)
    frames = [frame]
    while frame.more:
        frame = recv(0, False)
        frames.append(frame)
    return frames


def drain(sock: zmq.Socket[Any], handle: Callable[[list[zmq.Frame]], object],
          limit: int = BATCH) -> None:
    """Pass each waiting multipart message (as frames) to ``handle``, up to ``limit``."""
    # Ask the socket whether a message waits instead of catching zmq.Again: raising and
    # catching that exception costs more than a whole small message.
    events = sock.getsockopt
    for _ in range(limit):
        if not cast(int, events(zmq.EVENTS)) & zmq.POLLIN:
            return
        handle(recv_frames(sock))

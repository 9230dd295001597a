"""Reading every waiting message from a ZeroMQ socket, shared by the pilot's processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import zmq

BATCH = 1000  # messages read from one socket before the caller gives its others a turn


def recv_frames(sock: zmq.Socket[Any], flags: int = 0) -> list[zmq.Frame]:
    """Receive one multipart message as frames (``flags`` apply to its first frame)."""
    # Each frame says whether more follow; pyzmq's recv_multipart asks the socket instead
    # (a getsockopt per frame), which costs more than receiving the frame. The rest of a
    # message is there once its first frame is: ZeroMQ delivers a message whole.
    recv = sock.recv
    frame = recv(flags, False)
    frames = [frame]
    while frame.more:
        frame = recv(0, False)
        frames.append(frame)
    return frames


def new_socket(ctx: zmq.Context[Any], kind: int, ipv6: bool) -> zmq.Socket[Any]:
    """A socket with the options every pilot socket uses: no linger at close, no high-water
    mark (the executor bounds what is in flight), IPv6 when the address needs it."""
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    sock.setsockopt(zmq.IPV6, ipv6)
    return sock


def tcp_url(host: str, port: int | None = None) -> str:
    """``tcp://host[:port]``, with an IPv6 address in brackets."""
    url = f"tcp://[{host}]" if ":" in host else f"tcp://{host}"
    return url if port is None else f"{url}:{port}"


def drain(sock: zmq.Socket[Any], handle: Callable[[list[zmq.Frame]], object],
          limit: int = BATCH) -> None:
    """Pass each waiting multipart message (as frames) to ``handle``, up to ``limit``."""
    # Callers drain a socket their poll found readable, so the first message is read
    # without asking (zmq.Again covers a caller that did not poll). After it, ask the socket
    # whether another waits instead of catching zmq.Again: raising and catching that
    # exception costs more than a whole small message.
    try:
        frames = recv_frames(sock, zmq.NOBLOCK)
    except zmq.Again:
        return
    handle(frames)
    events = sock.getsockopt
    for _ in range(limit - 1):
        if not cast(int, events(zmq.EVENTS)) & zmq.POLLIN:
            return
        handle(recv_frames(sock))

"""A manager finds the interchange: its local socket, or the first candidate address to reply.

A manager on the submitting host (a LocalProvider block: ``--ipc PATH``) connects to the
interchange's Unix socket: a stream socket in a directory only this user can enter, which
the interchange accepts only from this user's processes. Each message then wakes only its
reader; over ZeroMQ on TCP it also woke an I/O thread on both sides.

Otherwise, or when that socket cannot be reached, each candidate address gets its own
DEALER; a probe that the interchange answers proves the address routes and, when encrypted,
that the keys match. Nothing answering within ``address_probe_timeout`` seconds means the
manager cannot work; it says why and gives up.

Either way the manager gets a link with one interface (:class:`ZmqLink`, :class:`UnixLink`).
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any

import zmq

from plait.executors.pilot import _protocol as P
from plait.executors.pilot._channel import Channel
from plait.executors.pilot._sockets import BATCH, drain, new_socket, tcp_url

log = logging.getLogger("plait.manager")


def _dealer(ctx: zmq.Context[Any], opts: Any, identity: bytes, address: str) -> zmq.Socket[Any]:
    sock = new_socket(ctx, zmq.DEALER, ":" in address)
    sock.setsockopt(zmq.IDENTITY, identity)
    if opts.cert_dir:
        from plait.executors.pilot._curve import make_client

        make_client(sock, opts.cert_dir)
    sock.connect(tcp_url(address, opts.port))
    return sock


class ZmqLink:
    """The manager's link to the interchange: a DEALER (identity: the manager's id)."""

    pending = eof = backlog = False  # ZeroMQ queues what it cannot send yet, says when a
    # message waits, and never shows the other side closing

    def __init__(self, sock: zmq.Socket[Any]) -> None:
        self.sock = sock
        self.pollable: Any = sock

    def send(self, frames: list[Any]) -> None:
        P.send(self.sock, frames)

    def flush(self) -> None:
        pass

    def messages(self) -> list[list[Any]]:
        """Every message waiting (up to a batch), as frames."""
        found: list[list[Any]] = []
        drain(self.sock, found.append)
        return found

    def receive(self, timeout: float) -> list[Any] | None:
        """One message within ``timeout`` seconds, or None."""
        if not self.sock.poll(int(timeout * 1000)):
            return None
        return self.sock.recv_multipart()

    def close(self) -> None:
        self.sock.close(linger=500)  # the last results may still leave


class UnixLink:
    """The manager's link over the interchange's Unix socket; the manager's id leads every
    message (the interchange checks it against the registration)."""

    def __init__(self, sock: socket.socket, uid: bytes) -> None:
        self.chan = Channel(sock)
        self.pollable: Any = self.chan.fd
        self.uid = uid

    @property
    def pending(self) -> bool:
        """Bytes wait for room: poll for POLLOUT, then :meth:`flush`."""
        return self.chan.pending

    @property
    def backlog(self) -> bool:
        """A message was read along with an earlier one and waits (poll would not say)."""
        return self.chan.backlog

    @property
    def eof(self) -> bool:
        """The interchange closed the connection (it exited or dropped this manager)."""
        return self.chan.eof or self.chan.broken

    def send(self, frames: list[Any]) -> None:
        self.chan.send([self.uid, *frames])

    def flush(self) -> None:
        self.chan.flush()

    def messages(self) -> list[list[Any]]:
        return self.chan.recv(BATCH)

    def receive(self, timeout: float) -> list[Any] | None:
        deadline = time.monotonic() + timeout
        poller = zmq.Poller()
        poller.register(self.chan.fd, zmq.POLLIN)
        while not self.chan.eof:
            got = self.chan.recv(1)
            if got:
                return got[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(int(remaining * 1000) + 1):
                return None
        return None

    def close(self) -> None:
        self.chan.flush_for(0.5)  # the last results may still leave
        self.chan.close()


def _unix_link(path: str, uid: str) -> UnixLink | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        log.warning("the interchange's local socket %s cannot be reached (%s); trying its "
                    "addresses", path, exc)
        return None
    log.info("interchange reachable at its local socket %s", path)
    return UnixLink(sock, uid.encode())


def connect(ctx: zmq.Context[Any], opts: Any, uid: str) -> ZmqLink | UnixLink | None:
    """The link to the interchange, or None after logging why none answered."""
    if getattr(opts, "ipc", None):
        link = _unix_link(opts.ipc, uid)
        if link is not None:
            return link
    sock = connect_to_interchange(ctx, opts, uid)
    return None if sock is None else ZmqLink(sock)


def connect_to_interchange(ctx: zmq.Context[Any], opts: Any,
                           uid: str) -> zmq.Socket[Any] | None:
    """The connected socket (identity ``uid``), or None after logging why none answered."""
    candidates = [a.strip() for a in opts.addresses.split(",") if a.strip()]
    probes = {}
    poller = zmq.Poller()
    for i, address in enumerate(candidates):
        sock = _dealer(ctx, opts, f"{uid}-probe-{i}".encode(), address)
        sock.send(P.PROBE)
        probes[sock] = address
        poller.register(sock, zmq.POLLIN)
    deadline = time.monotonic() + opts.address_probe_timeout
    chosen = None
    while chosen is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        for sock, _ in poller.poll(int(remaining * 1000) + 1):
            sock.recv()
            chosen = probes[sock]
            break
    for sock in probes:
        sock.close(0)
    if chosen is None:
        why = (f"no reply from the interchange at {', '.join(candidates)} port {opts.port} "
               f"within {opts.address_probe_timeout:g} s: the address is unreachable from this "
               "node, a firewall blocks the port, the interchange is gone, or (encrypted) this "
               "manager's keys do not match. Set the executor's address= to one this node "
               "can reach.")
        log.error("%s", why)
        sys.stderr.write(f"plait manager {uid}: {why}\n")
        return None
    log.info("interchange reachable at %s:%d", chosen, opts.port)
    return _dealer(ctx, opts, uid.encode(), chosen)

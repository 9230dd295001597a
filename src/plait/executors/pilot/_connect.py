"""A manager finds the interchange: probe every candidate address at once, keep the first reply.

Each candidate gets its own DEALER; a probe that the interchange answers proves the address
routes and, when encrypted, that the keys match. Nothing answering within
``address_probe_timeout`` seconds means the manager cannot work; it says why and gives up.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import zmq

from plait.executors.pilot import _protocol as P
from plait.executors.pilot._sockets import new_socket, tcp_url

log = logging.getLogger("plait.manager")


def _dealer(ctx: zmq.Context[Any], opts: Any, identity: bytes, address: str) -> zmq.Socket[Any]:
    sock = new_socket(ctx, zmq.DEALER, ":" in address)
    sock.setsockopt(zmq.IDENTITY, identity)
    if opts.cert_dir:
        from plait.executors.pilot._curve import make_client

        make_client(sock, opts.cert_dir)
    sock.connect(tcp_url(address, opts.port))
    return sock


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

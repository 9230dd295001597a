"""Who may connect to the interchange: loopback only for local blocks; junk never hurts.

The managers' port is where a peer could pose as a manager (receive task payloads, send back
results the submitter unpickles). With every block on this host it listens on loopback only;
otherwise it listens on every interface, and without encryption a WARNING says so at start.
Whatever arrives on the port (raw TCP junk, malformed messages, unauthenticated peers), the
interchange and the executor carry on.
"""

from __future__ import annotations

import ipaddress
import logging
import pickle
import socket
import sys

import psutil
import pytest
import zmq
from pilot_tasks import add

from conftest import local_provider
from plait.executors.pilot._settings import default_launch_cmd, local_addresses
from plait.providers import LocalProvider


def listening(ex) -> list[str]:
    """The addresses the interchange process listens on."""
    proc = psutil.Process(ex._client.child.pid)
    return [c.laddr.ip for c in proc.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == ex.worker_port]


class RemoteStandIn(LocalProvider):
    """Stand-in for a provider whose blocks run elsewhere (blocks still start here)."""

    is_local = False


@pytest.mark.timeout(60)
def test_local_blocks_make_the_interchange_listen_on_loopback_only(make_htex):
    ex, _ = make_htex(address=None)
    assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3
    found = listening(ex)
    assert found and all(ipaddress.ip_address(ip).is_loopback for ip in found), found
    for ip in local_addresses().split(","):
        if not ipaddress.ip_address(ip).is_loopback:  # this host's other addresses: refused
            with socket.socket() as s:
                assert s.connect_ex((ip, ex.worker_port)) != 0, ip


@pytest.mark.timeout(60)
@pytest.mark.parametrize("encrypted", [False, True])
def test_remote_blocks_listen_everywhere_and_unencrypted_says_so_once(make_htex, caplog,
                                                                      encrypted):
    caplog.set_level(logging.WARNING, logger="plait")
    provider = local_provider()
    provider.__class__ = RemoteStandIn
    python = f"{sys.executable} -m plait.executors.pilot._manager"  # not on PATH here
    ex, _ = make_htex(provider=provider, encrypted=encrypted,
                      launch_cmd=default_launch_cmd().replace("{python}", python))
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4
    assert {"0.0.0.0", "::"} & set(listening(ex)), listening(ex)
    warnings = [r.getMessage() for r in caplog.records if "any host able" in r.getMessage()]
    if encrypted:
        assert not warnings
    else:
        assert len(warnings) == 1 and str(ex.worker_port) in warnings[0], warnings


JUNK_MESSAGES = [
    [b"G", b"not a pickle"],
    [b"G", pickle.dumps({"hostname": "intruder"})],  # a registration missing its fields
    [b"R", b"junk"],
    [b"R", pickle.dumps([(1, 0, 1)]), b"\x80junk"],  # a result for task 1, from a stranger
    [b"R"],
    [b"H", b"junk"],
    [b"D"],
    [b"Z", b"unknown kind"],
    [b""],
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("encrypted", [False, True])
def test_junk_on_the_managers_port_harms_nothing(make_htex, encrypted):
    ex, _ = make_htex(encrypted=encrypted)
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    with socket.create_connection(("127.0.0.1", ex.worker_port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)) * 8)
    ctx = zmq.Context()
    try:
        peer = ctx.socket(zmq.DEALER)  # no CurveZMQ keys: refused by an encrypted interchange
        peer.setsockopt(zmq.LINGER, 0)
        peer.connect(f"tcp://127.0.0.1:{ex.worker_port}")
        for frames in JUNK_MESSAGES:
            peer.send_multipart(frames)
        peer.send_multipart([b"P"])  # a probe: answered unless the handshake was refused
        answered = peer.poll(1000)  # the refused peer never hears back: bounded wait
        assert answered == (0 if encrypted else zmq.POLLIN)
    finally:
        ctx.destroy(linger=0)
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4
    assert ex._client.child.exitcode() is None and not ex.bad_state_is_set
    assert len(ex.connected_managers()) == 1

"""Managers on the submitting host reach the interchange over its Unix socket, not TCP.

The socket lives in a directory only this user can enter, is accepted only from this user's
processes, and is gone after shutdown; whatever else arrives on it harms nothing. Blocks
elsewhere, or an explicit non-loopback ``address``, keep the TCP port.
"""

from __future__ import annotations

import ipaddress
import os
import pickle
import socket
import stat
import subprocess
import sys

import psutil
import pytest
from pilot_tasks import add, echo

from plait.executors.pilot._pipe import send_msg
from plait.executors.pilot._settings import local_addresses
from waiting import wait_until


def manager_of(ex) -> psutil.Process:
    (mgr,) = ex.connected_managers()
    return psutil.Process(mgr["pid"])


@pytest.mark.timeout(60)
def test_local_managers_use_the_private_unix_socket(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3
    path = ex._manager_ipc
    assert path is not None
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    mgr = manager_of(ex)
    assert not [c for c in mgr.net_connections(kind="tcp") if c.raddr
                and c.raddr.port == ex.worker_port]
    listening = psutil.Process(ex._client.child.pid).net_connections(kind="unix")
    assert path in {c.laddr for c in listening}
    ex.shutdown()
    assert not os.path.exists(os.path.dirname(path))


@pytest.mark.timeout(60)
def test_an_explicit_address_keeps_the_tcp_port(make_htex):
    others = [a for a in local_addresses().split(",") if not ipaddress.ip_address(a).is_loopback]
    if not others:
        pytest.skip("this host has no address but loopback")
    host = others[0]
    ex, _ = make_htex(address=host)
    assert ex.submit(add, {}, 1, 2).result(timeout=30) == 3
    assert ex._manager_ipc is None
    assert [c for c in manager_of(ex).net_connections(kind="tcp") if c.raddr
            and c.raddr.port == ex.worker_port]


@pytest.mark.timeout(60)
def test_junk_on_the_unix_socket_harms_nothing(make_htex):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    (mgr,) = ex.connected_managers()
    with socket.socket(socket.AF_UNIX) as raw:  # bytes that are no message at all
        raw.connect(ex._manager_ipc)
        raw.sendall(b"\xff" * 64 + bytes(range(256)))
    for frames in ([b"intruder", b"R", pickle.dumps([(1, 0, 0)])],  # results, unregistered
                   [mgr["manager"].encode(), b"H"],  # posing as the registered manager
                   [b"x"], [b"intruder", b"Z", b"unknown kind"]):
        with socket.socket(socket.AF_UNIX) as peer:
            peer.connect(ex._manager_ipc)
            send_msg(peer, frames)
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4
    assert ex._client.child.exitcode() is None and not ex.bad_state_is_set
    assert len(ex.connected_managers()) == 1


PEER = """
import os, socket, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
print("closed" if s.recv(1) == b"" else "open", flush=True)
"""


@pytest.mark.timeout(60)
def test_another_users_process_is_refused(make_htex):
    if os.geteuid() != 0:
        pytest.skip("needs root, to run a peer as another user")
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    os.chmod(os.path.dirname(ex._manager_ipc), 0o755)  # let the other user reach the socket
    os.chmod(ex._manager_ipc, 0o666)
    out = subprocess.run([sys.executable, "-c", PEER, ex._manager_ipc], capture_output=True,
                         text=True, timeout=30)
    assert out.stdout.strip() == "closed", out.stderr
    with open(os.path.join(ex.run_dir, ex.label, "interchange.log")) as fh:
        assert "from user id 65534 was refused" in fh.read()
    assert ex.submit(add, {}, 2, 2).result(timeout=30) == 4


@pytest.mark.timeout(60)
def test_a_task_sent_with_the_registration_reply_runs_at_once(make_htex):
    # The task and the registration's reply reach the manager in one read: the task must
    # not wait for the next message to wake the manager (a heartbeat, 30 s away here).
    ex, _ = make_htex(heartbeat_period=30.0, heartbeat_threshold=120.0)
    fut = ex.submit(add, {}, 1, 2)  # before the manager has registered
    assert fut.result(timeout=20) == 3


@pytest.mark.timeout(90)
@pytest.mark.parametrize("shared", [0, 1 << 30])
def test_a_large_argument_is_not_kept_after_its_task(make_htex, shared):
    # Over the Unix socket a frame is a view into its whole message: the function body (new
    # with this first task) or a cached shared argument must not keep the task's 64 MB.
    ex, _ = make_htex(shared_cache_bytes=shared)
    ix = psutil.Process(ex._client.child.pid)
    wait_until(lambda: ex.connected_managers(), 30, "a manager")
    mgr = manager_of(ex)
    base = {"interchange": ix.memory_info().rss, "manager": mgr.memory_info().rss}
    blob = bytes(64 * 2**20)
    assert len(ex.submit(echo, {}, blob).result(timeout=60)) == len(blob)
    kept = {"interchange": 1.0 if shared else 0.0, "manager": 1.0 if shared else 0.0}

    def settled() -> bool:
        now = {"interchange": ix.memory_info().rss, "manager": mgr.memory_info().rss}
        return all(now[k] - base[k] < (kept[k] + 0.5) * len(blob) for k in now)

    wait_until(settled, 20, lambda: f"memory back to the baseline: base {base}, now "
               f"{ix.memory_info().rss}, {mgr.memory_info().rss}")

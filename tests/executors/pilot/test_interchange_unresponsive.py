"""An interchange that is alive but does not answer fails every task promptly, never a hang.

Two ways to be unresponsive: stopped (SIGSTOP: a frozen node, swap), and alive without
taking messages (a stand-in that never connects its tasks socket). Either way submit never
blocks, every outstanding future fails with InterchangeLost naming the interchange (pid and
host) within about the heartbeat threshold, and shutdown leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

import psutil
import pytest
from pilot_tasks import add, announce_then_sleep

from conftest import HERE, local_provider
from plait.executors._errors import InterchangeLost


def submit_in_thread(ex, count: int, within: float = 2.0) -> list:
    """Submit ``count`` tasks from another thread; fail if submitting blocks."""
    futs: list = []

    def submit() -> None:
        futs.extend(ex.submit(add, {}, i, i) for i in range(count))

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), "submit blocked on an unresponsive interchange"
    return futs


@pytest.mark.timeout(60)
def test_stopped_interchange_fails_all_tasks_as_unresponsive(make_htex, beacon):
    ex, _ = make_htex()
    assert ex.submit(add, {}, 1, 1).result(timeout=30) == 2
    running = ex.submit(announce_then_sleep, {}, beacon.path, 60)
    beacon.wait_lines(1)
    pid = ex._client.child.pid
    os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    futs = [running, *submit_in_thread(ex, 20)]
    for fut in futs:
        with pytest.raises(InterchangeLost, match="unresponsive") as info:
            fut.result(timeout=30)
    assert time.monotonic() - t0 < ex.heartbeat_threshold + ex.heartbeat_period + 3
    text = str(info.value)
    assert f"pid {pid}" in text and socket.gethostname() in text, text
    with pytest.raises(InterchangeLost):
        ex.submit(add, {}, 1, 1)
    t0 = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t0 < 5
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.timeout(60)
def test_interchange_taking_no_messages_fails_tasks_without_blocking_submit(make_htex):
    mute = [sys.executable, os.path.join(HERE, "mute_interchange.py")]
    ex, _ = make_htex(encrypted=False, interchange_launch_cmd=mute,
                      provider=local_provider(init_blocks=0))
    t0 = time.monotonic()
    futs = submit_in_thread(ex, 3)
    for fut in futs:
        with pytest.raises(InterchangeLost, match="unresponsive"):
            fut.result(timeout=30)
    assert time.monotonic() - t0 < 10
    t0 = time.monotonic()
    ex.shutdown()
    assert time.monotonic() - t0 < 5

"""A helper's death descriptor wakes a poll when it exits, with pidfds or without them (an
old kernel such as RHEL 7's 3.10 refuses ``pidfd_open`` with ENOSYS)."""

from __future__ import annotations

import errno
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from plait.executors.pilot import _spawn


@pytest.fixture(params=["pidfd", "refused"])
def pidfds(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _spawn.pidfds_work.cache_clear()
    if request.param == "refused":
        def refuse(pid: int, flags: int = 0) -> int:
            raise OSError(errno.ENOSYS, "Function not implemented")
        monkeypatch.setattr(os, "pidfd_open", refuse)
    else:
        assert _spawn.pidfds_work(), "this Linux should give pidfds"
    yield request.param
    _spawn.pidfds_work.cache_clear()


def test_the_death_descriptor_is_readable_exactly_when_the_child_exits(pidfds: str) -> None:
    assert _spawn.pidfds_work() is (pidfds == "pidfd")
    child = _spawn.Child([sys.executable, "-c", "import sys; sys.stdin.read()"],
                         stdin=subprocess.PIPE)
    try:
        assert select.select([child.fd], [], [], 0.2)[0] == []  # alive: not readable
        assert child.exitcode() is None
        assert child.popen.stdin is not None
        child.popen.stdin.close()  # the child's read ends: it exits
        assert select.select([child.fd], [], [], 30)[0] == [child.fd]
        assert child.exitcode(timeout=30) == 0
    finally:
        child.kill()
        child.popen.wait(30)
        child.close()


def test_a_timed_wait_ends_as_the_child_exits_and_none_at_its_deadline(pidfds: str) -> None:
    child = _spawn.Child([sys.executable, "-c", "import sys; sys.exit(sys.stdin.read() == 'x')"],
                         stdin=subprocess.PIPE)
    try:
        start = time.monotonic()
        assert child.exitcode(timeout=0.3) is None  # still reading its stdin
        assert time.monotonic() - start >= 0.3
        assert child.popen.stdin is not None
        child.popen.stdin.write(b"x")
        child.popen.stdin.close()
        assert child.exitcode(timeout=30) == 1
        assert child.exitcode(timeout=None) == 1  # reaped: asking again answers at once
    finally:
        child.kill()
        child.popen.wait(30)
        child.close()

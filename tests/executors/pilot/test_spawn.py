"""A helper's death descriptor wakes a poll when it exits, with pidfds or without them (an
old kernel such as RHEL 7's 3.10 refuses ``pidfd_open`` with ENOSYS)."""

from __future__ import annotations

import errno
import os
import select
import subprocess
import sys
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

"""The test helpers that wait: they return what they waited for, or fail naming it."""

from __future__ import annotations

import os

import pytest

from waiting import Beacon, wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    calls = iter([0, None, "found"])
    assert wait_until(lambda: next(calls), 5, "a value", interval=0) == "found"


def test_wait_until_fails_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"after 0\.05 s waiting for the moon \(3\)"):
        wait_until(lambda: False, 0.05, lambda: "the moon (3)")


def test_beacon_returns_lines_or_names_what_arrived(tmp_path) -> None:
    beacon = Beacon(tmp_path)
    try:
        fd = os.open(beacon.path, os.O_WRONLY)
        os.write(fd, b"started 1\n")
        assert beacon.wait_lines(1, timeout=5) == ["started 1"]
        with pytest.raises(AssertionError, match=r"2 line\(s\) on .*got b'started 1\\n'"):
            beacon.wait_lines(2, timeout=0.2)
        os.close(fd)
    finally:
        beacon.close()

"""The pilot executor runs tasks through a real interchange, manager and workers."""

from __future__ import annotations

import traceback

import pytest
from pilot_tasks import Boom, add, echo, fail, getpid


@pytest.mark.timeout(60)
def test_tasks_round_trip(make_htex):
    ex, _ = make_htex()
    futs = [ex.submit(add, {}, i, i) for i in range(200)]
    assert [f.result(timeout=30) for f in futs] == [2 * i for i in range(200)]
    pids = {ex.submit(getpid, {}).result(timeout=30) for _ in range(20)}
    assert 1 <= len(pids) <= 2
    assert ex.outstanding == 0


@pytest.mark.timeout(60)
def test_closure_kwargs_and_large_payload(make_htex):
    ex, _ = make_htex()
    offset = 7

    def shifted(x, *, by):
        return x + by + offset

    assert ex.submit(shifted, {}, 1, by=2).result(timeout=30) == 10
    blob = bytes(range(256)) * 4096  # 1 MB
    assert ex.submit(echo, {}, blob).result(timeout=30) == blob
    arr = bytearray(b"x" * 300_000)
    assert ex.submit(echo, {}, arr).result(timeout=30) == arr


@pytest.mark.timeout(60)
def test_user_exception_keeps_remote_traceback(make_htex):
    ex, _ = make_htex()
    with pytest.raises(ValueError, match="outer bad") as info:
        ex.submit(fail, {}, "bad").result(timeout=30)
    assert isinstance(info.value.__cause__, Boom)
    text = "".join(traceback.format_exception(info.value))
    assert "in inner" in text and "pilot_tasks.py" in text

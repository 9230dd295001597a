"""Payloads of every size and buffer type round-trip intact; shared arguments are sent once,
and an entry dropped from a cache is re-sent, never confused with another."""

from __future__ import annotations

import hashlib
import pickle

import pytest
from pilot_tasks import digest_and_mutate, echo

from plait.executors.pilot._protocol import ZERO_COPY_MIN
from plait.serialize._pack import _OUT_OF_BAND_MIN
from plait.serialize._shared import SHARE_MIN

MB = 1 << 20
# Tens of MB cross CurveZMQ in each process's I/O thread: on this shared 2-core machine that
# can starve heartbeats for seconds. These tests are about payloads, not failure detection.
CALM = {"heartbeat_period": 1.0, "heartbeat_threshold": 30.0}
SIZES = sorted({0, 1, 100, ZERO_COPY_MIN - 1, ZERO_COPY_MIN, ZERO_COPY_MIN + 1,
                _OUT_OF_BAND_MIN - 1, _OUT_OF_BAND_MIN + 1, SHARE_MIN - 1, SHARE_MIN,
                SHARE_MIN + 1, 3 * MB + 7})


def pattern(n: int) -> bytes:
    return (bytes(range(251)) * (n // 251 + 1))[:n]


class Buffered:
    """A stand-in for an array type: has ``nbytes`` and pickles its data out of band."""

    def __init__(self, data: bytearray) -> None:
        self.data = data

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def __reduce_ex__(self, protocol):
        return Buffered, (pickle.PickleBuffer(self.data),)

    def __eq__(self, other):
        return type(other) is Buffered and bytes(other.data) == bytes(self.data)


@pytest.mark.timeout(120)
def test_every_size_and_buffer_type_round_trips(make_htex):
    ex, _ = make_htex(**CALM)
    cases = []
    for n in SIZES:
        data = pattern(n)
        cases += [data, bytearray(data), memoryview(data), Buffered(bytearray(data))]
    futs = [ex.submit(echo, {}, c) for c in cases]
    for case, fut in zip(cases, futs, strict=True):
        got = fut.result(timeout=60)
        assert type(got) is type(case)
        assert got == case, f"{type(case).__name__} of {len(bytes(memoryview(got)))} B"
    # a shaped memoryview keeps its format and shape
    view = memoryview(bytearray(pattern(4 * 6))).cast("i", (2, 3))
    got = ex.submit(echo, {}, view).result(timeout=30)
    assert (got.format, got.shape, got.tolist()) == ("i", (2, 3), view.tolist())


@pytest.mark.timeout(120)
def test_64_mb_argument_and_result(make_htex):
    ex, _ = make_htex(**CALM)
    blob = pattern(64 * MB)
    got = ex.submit(echo, {}, blob).result(timeout=90)
    assert len(got) == len(blob) and got == blob
    arr = bytearray(blob)
    assert ex.submit(echo, {}, arr).result(timeout=90) == arr


def test_numpy_arrays_round_trip(make_htex):
    import numpy as np  # in the test extra
    ex, _ = make_htex(**CALM)
    for n in (0, 10, ZERO_COPY_MIN // 8 + 1, 8 * MB // 8):
        arr = np.arange(n, dtype=np.float64)
        got = ex.submit(echo, {}, arr).result(timeout=60)
        assert got.dtype == arr.dtype and np.array_equal(got, arr)


@pytest.mark.timeout(120)
def test_shared_argument_is_fresh_for_every_task(make_htex):
    """The same object passed to many tasks: each task sees the original content, even
    though earlier tasks changed their copy; a mutated object gets its new content."""
    ex, _ = make_htex(**CALM)
    data = bytearray(pattern(2 * MB))
    want = hashlib.sha256(data).hexdigest()
    futs = [ex.submit(digest_and_mutate, {}, data) for _ in range(20)]
    results = [f.result(timeout=60) for f in futs]
    assert all(digest == want for digest, _ in results)
    assert max(held for _, held in results) == 1  # it went through the workers' store
    data[5] ^= 0xFF  # the user changes it: later tasks get the new content
    want2 = hashlib.sha256(data).hexdigest()
    assert ex.submit(digest_and_mutate, {}, data).result(timeout=60)[0] == want2
    assert ex._ledger.total <= ex.shared_cache_bytes
    # an array-like object (rebuilt as a view of its buffers): fresh buffers for each task
    arr = Buffered(bytearray(pattern(2 * MB)))
    want3 = hashlib.sha256(arr.data).hexdigest()
    results = [f.result(timeout=60) for f in
               [ex.submit(digest_and_mutate, {}, arr) for _ in range(8)]]
    assert all(digest == want3 for digest, _ in results)


@pytest.mark.timeout(120)
def test_evicted_shared_argument_is_re_sent(make_htex):
    """With room for one shared argument, alternating two evicts each in turn at every
    level (interchange, manager, worker); each task still gets the right one."""
    ex, _ = make_htex(max_workers_per_node=1, shared_cache_bytes=3 * MB, **CALM)
    a, b = pattern(2 * MB), bytes(reversed(pattern(2 * MB)))
    wants = {id(a): hashlib.sha256(a).hexdigest(), id(b): hashlib.sha256(b).hexdigest()}
    helds = []
    for obj in (a, a, b, b, a, b, a):  # one at a time: the previous one is unpinned
        digest, held = ex.submit(digest_and_mutate, {}, obj).result(timeout=60)
        assert digest == wants[id(obj)]
        helds.append(held)
    # a first use travels inline; from the second use on, the worker holds exactly one
    # entry: two would mean nothing was dropped, a missing one would have failed the task
    assert helds == [0, 1, 1, 1, 1, 1, 1]
    assert len(ex._ledger.sizes) == 1
    # in flight together, both stay pinned: the bound gives way, the results stay right
    futs = [ex.submit(digest_and_mutate, {}, obj) for obj in (a, b) * 5]
    assert [f.result(timeout=60)[0] for f in futs] == [wants[id(a)], wants[id(b)]] * 5


@pytest.mark.timeout(60)
def test_shared_cache_off(make_htex):
    ex, _ = make_htex(shared_cache_bytes=0, **CALM)
    blob = pattern(2 * MB)
    want = hashlib.sha256(blob).hexdigest()
    assert [ex.submit(digest_and_mutate, {}, blob).result(timeout=30) for _ in range(3)] \
        == [(want, 0)] * 3

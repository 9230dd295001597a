"""A burst of submitted tasks leaves the client in bounded messages, in order, each task with
its own frames (one huge message kept the interchange from its heartbeats)."""

from __future__ import annotations

import pickle
from typing import Any

from plait.executors.pilot import _client
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._client import InterchangeClient


class Recorder:
    """Stands in for the channel to the interchange: keeps each message sent."""

    pending = False
    written = 0

    def __init__(self) -> None:
        self.messages: list[list[Any]] = []

    def send(self, frames: list[Any]) -> bool:
        self.messages.append(list(frames))
        return False

    def flush(self) -> bool:
        return False


def test_a_burst_leaves_in_bounded_messages(tmp_path):
    client = InterchangeClient("t", str(tmp_path), None, lambda kind, frames: None,
                               lambda exc: None)
    real = client.chan
    try:
        client.chan = Recorder()  # type: ignore[assignment]
        n = 2 * _client._CHUNK + 7
        with client.lock:
            for tid in range(n):
                frames = [f"a{tid}".encode(), f"b{tid}".encode()][: 1 + tid % 2]
                client.post_task((tid, b"d", None, None, None, len(frames), ()), frames,
                                 alone=False)
        client._flush()
        tasks = [m for m in client.chan.messages if m[0] == P.TASKS]
        assert len(tasks) >= 3 and all(len(pickle.loads(m[1])) <= _client._CHUNK
                                       for m in tasks)
        seen = []
        for msg in tasks:
            pos = 2
            for meta in pickle.loads(msg[1]):
                tid, n_frames = meta[0], meta[5]
                assert msg[pos:pos + n_frames] == [f"a{tid}".encode(),
                                                   f"b{tid}".encode()][:n_frames]
                pos += n_frames
                seen.append(tid)
            assert pos == len(msg)
        assert seen == sorted(seen) and len(seen) >= n - 1  # the first may have gone direct
    finally:
        client.chan = real
        client.stop(timeout=1)

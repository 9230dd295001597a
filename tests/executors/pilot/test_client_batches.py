"""A burst of submitted tasks leaves the client in bounded messages, in order, each task with
its own frames (one huge message kept the interchange from its heartbeats)."""

from __future__ import annotations

import os
import pickle
from typing import Any

from plait.executors.pilot import _client
from plait.executors.pilot import _protocol as P
from plait.executors.pilot._client import InterchangeClient


class Recorder:
    """Stands in for the tasks socket: keeps each multipart message sent."""

    def __init__(self) -> None:
        self.messages: list[list[Any]] = []
        self._current: list[Any] = []

    def send(self, frame: Any, flags: int = 0, copy: bool = True) -> None:
        self._current.append(frame)
        if not flags & P._SNDMORE:
            self.messages.append(self._current)
            self._current = []


def test_a_burst_leaves_in_bounded_messages(tmp_path):
    client = InterchangeClient("t", str(tmp_path), "127.0.0.1", (50000, 50100), None, None,
                               lambda kind, frames: None, lambda exc: None)
    try:
        client.tasks = Recorder()  # type: ignore[assignment]
        n = 2 * _client._CHUNK + 7
        with client.lock:
            for tid in range(n):
                frames = [f"a{tid}".encode(), f"b{tid}".encode()][: 1 + tid % 2]
                client.post_task((tid, b"d", None, None, None, len(frames), ()), frames,
                                 alone=False)
        client._flush()
        tasks = [m for m in client.tasks.messages if m[0] == P.TASKS]
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
        client.ctx.destroy(linger=0)
        os.close(client._wake_r)
        os.close(client._wake_w)

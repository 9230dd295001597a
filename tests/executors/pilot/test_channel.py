"""The executor ⇄ interchange channel: every message arrives whole and in order, whatever its
size and however the socket splits it; neither side blocks; the other side's exit is seen."""

from __future__ import annotations

import os
import random
import socket

from plait.executors.pilot._channel import Channel

SIZES = [0, 1, 100, 65535, 65536, 70000, 1 << 20, 3_000_000]


def test_messages_of_every_size_arrive_whole_and_in_order():
    a, b = socket.socketpair()
    writer, reader = Channel(a), Channel(b)
    rng = random.Random(1)
    sent = [[os.urandom(rng.choice(SIZES)) for _ in range(rng.randrange(4))]
            for _ in range(200)]
    got: list[list[bytes]] = []
    for msg in sent:  # the socket's buffer fills: sends never block, bytes wait in order
        writer.send(msg)
        got += [[bytes(f) for f in m] for m in reader.recv(3)]
    while writer.flush() or len(got) < len(sent):
        got += [[bytes(f) for f in m] for m in reader.recv(3)]
    assert got == sent
    a.close()
    assert reader.recv() == [] and reader.eof
    b.close()


def test_recv_stops_at_its_limit_and_says_more_is_waiting():
    a, b = socket.socketpair()
    writer, reader = Channel(a), Channel(b)
    for i in range(10):
        assert not writer.send([b"T", str(i).encode()])
    first = reader.recv(4)
    assert [bytes(m[1]) for m in first] == [b"0", b"1", b"2", b"3"] and reader.backlog
    rest = reader.recv()
    assert [bytes(m[1]) for m in rest] == [str(i).encode() for i in range(4, 10)]
    assert not reader.backlog
    a.close()
    b.close()


def test_writing_to_a_closed_peer_is_not_an_error():
    a, b = socket.socketpair()
    writer = Channel(a)
    b.close()
    assert not writer.send([b"x" * 1000])
    assert writer.broken and not writer.pending
    a.close()

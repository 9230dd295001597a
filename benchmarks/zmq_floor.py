"""The floor under the pilot executor's round trip: a message relayed through 3 ZeroMQ hops
each way across 4 Python processes (like submitter → interchange → manager → worker), with
no serialization or bookkeeping. Run: python benchmarks/zmq_floor.py [round_trips]"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import zmq

BASE = "tcp://127.0.0.1:{}"


def relay(up_addr: str) -> None:
    ctx = zmq.Context()
    up, down = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
    up.connect(up_addr)
    print(down.bind_to_random_port("tcp://127.0.0.1"), flush=True)  # port 0: never fixed
    poller = zmq.Poller()
    poller.register(up, zmq.POLLIN)
    poller.register(down, zmq.POLLIN)
    while True:  # killed by the parent
        for sock, _ in poller.poll():
            frames = sock.recv_multipart(copy=False)
            (down if sock is up else up).send_multipart(frames, copy=False)


def echo(up_addr: str) -> None:
    sock = zmq.Context().socket(zmq.DEALER)
    sock.connect(up_addr)
    while True:  # killed by the parent
        sock.send_multipart(sock.recv_multipart(copy=False), copy=False)


def main(round_trips: int) -> None:
    sock = zmq.Context().socket(zmq.DEALER)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    me = [sys.executable, __file__]
    procs = []
    try:
        for _ in range(2):  # each relay binds a free port and says which
            procs.append(subprocess.Popen([*me, "relay", BASE.format(port)],
                                          stdout=subprocess.PIPE, text=True))
            assert procs[-1].stdout is not None
            port = int(procs[-1].stdout.readline())
        procs.append(subprocess.Popen([*me, "echo", BASE.format(port)]))
        sock.send(b"warm-up")
        if not sock.poll(30_000):
            raise SystemExit("the relay chain did not answer within 30 s")
        sock.recv()
        samples = []
        for _ in range(round_trips):
            start = time.perf_counter()
            sock.send(b"x" * 100)
            sock.recv()
            samples.append((time.perf_counter() - start) * 1e3)
        print(f"3 ZeroMQ hops each way through 4 processes: median "
              f"{statistics.median(samples):.3f} ms, min {min(samples):.3f} ms")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "relay":
        relay(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "echo":
        echo(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

"""A stand-in interchange that is alive but takes no tasks (fault injection for the client).

Started by the executor in place of the real one (``interchange_launch_cmd``): it reads its
settings from stdin, connects only the results socket, says STARTED, then neither connects
the tasks socket nor sends anything else; it exits when its stdin (the lifeline) closes.
Only for ``encrypted=False`` executors.
"""

from __future__ import annotations

import os
import pickle
import sys

import zmq


def main() -> None:
    cfg = pickle.load(sys.stdin.buffer)
    ctx = zmq.Context()
    results = ctx.socket(zmq.DEALER)
    results.setsockopt(zmq.LINGER, 0)
    results.connect(f"tcp://{cfg['loopback_address']}:{cfg['result_port']}")
    results.send_multipart([b"S", pickle.dumps({"worker_port": 1, "pid": os.getpid()})])
    sys.stdin.buffer.read()  # until the executor's process closes stdin
    ctx.destroy(linger=0)


if __name__ == "__main__":
    main()

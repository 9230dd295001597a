"""A stand-in interchange that is alive but takes no tasks (fault injection for the client).

Started by the executor in place of the real one (``interchange_launch_cmd``): it reads its
settings from stdin, says STARTED on its channel, then neither reads the channel nor sends
anything else; it exits when its stdin (the lifeline) closes.
"""

from __future__ import annotations

import os
import pickle
import socket
import sys

from plait.executors.pilot._pipe import send_msg


def main() -> None:
    cfg = pickle.load(sys.stdin.buffer)
    chan = socket.socket(fileno=cfg["executor_fd"])
    send_msg(chan, [b"S", pickle.dumps({"worker_port": 1, "pid": os.getpid()})])
    sys.stdin.buffer.read()  # until the executor's process closes stdin
    chan.close()


if __name__ == "__main__":
    main()

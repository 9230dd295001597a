"""The monitoring database process: reads record frames on stdin, writes them in batches.

    script ══ stdin: frames of records ══▶ this process ──▶ Writer ──▶ database
    script ◀══ stdout: JSON lines ({"warning": ...}, {"flushed": token}) ══ this process

Started by the hub as ``python -m plait.monitoring._dbproc URL RUN_ID LOG_PATH``. One
thread, one wait: ``select`` on stdin with the next commit as its deadline. A batch commits
``COMMIT_S`` after its first record, or at ``COMMIT_MAX`` records (a live task's rows wait up
to ``HOLD_S`` for its end, see ``_writer``; a flush writes them). End of input is the end:
after the script's last frame (or its death, which closes the pipe just the same) the
writer commits what it has and exits, so a killed script loses nothing it had sent. An idle
run's ``last_update`` is refreshed every ``HEARTBEAT_S``: a reader tells a live run (its
elapsed time, its running tasks' bars) from one whose writer is gone.
Ctrl-C is ignored here: the script's own exit ends this process.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import sys
import time
from typing import Any

from plait.monitoring import _records as R
from plait.monitoring._writer import Writer

log = logging.getLogger("plait.monitoring.writer")
COMMIT_S = 0.25
HEARTBEAT_S = 5.0  # an idle run's plait_workflow.last_update is at most this old
COMMIT_MAX = 50_000
_READ = 1 << 20


def _say(message: dict[str, Any]) -> None:
    try:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # the script is gone; nobody to tell
        pass


class _Frames:
    """Splits bytes read from the pipe into frames."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[list[tuple[Any, ...]]]:
        self.buf += data
        out = []
        view = memoryview(self.buf)
        pos = 0
        try:
            while len(view) - pos >= R.HEADER:
                n = R.frame_length(view[pos:pos + R.HEADER])
                if len(view) - pos - R.HEADER < n:
                    break
                out.append(R.decode(view[pos + R.HEADER:pos + R.HEADER + n]))
                pos += R.HEADER + n
        finally:
            view.release()
        del self.buf[:pos]
        return out


def serve(writer: Writer, fd: int) -> bool:
    """Read and write until end of input; return whether the script closed its run."""
    frames = _Frames()
    first_pending = 0.0
    closed = False
    while True:
        hold_ends = writer.hold_ends()
        if writer.pending():
            timeout = max(0.0, first_pending + COMMIT_S - time.monotonic())
        elif hold_ends is not None:  # rows held back with nothing new: commit them when due
            timeout = max(COMMIT_S, hold_ends - time.monotonic())
        else:
            timeout = HEARTBEAT_S
        ready, _, _ = select.select([fd], [], [], timeout)
        if ready:
            data = os.read(fd, _READ)
            if not data:
                break
            for records in frames.feed(data):
                if not writer.pending():
                    first_pending = time.monotonic()
                writer.add(records)
                flush = [r[1] for r in records if r[0] == R.FLUSH]
                if any(r[0] == R.WORKFLOW_END for r in records):
                    closed = True
                if flush:
                    writer.commit()
                    for token in flush:
                        _say({"flushed": token, "ok": writer.broken_since is None})
        due = writer.pending() and (writer.pending() >= COMMIT_MAX
                                    or time.monotonic() - first_pending >= COMMIT_S)
        if due or (not ready and hold_ends is not None):  # (held rows: their wait is over)
            writer.commit(everything=False)
        elif not ready and not writer.pending():  # idle: readers see the run alive
            writer.commit(everything=False, touch=True)
    writer.commit()
    return closed


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    url, run_id, log_path = (argv or sys.argv[1:])[:3]
    debug = "--debug" in (argv or sys.argv)
    # Rows and records hold no reference cycles: the cyclic collector, at its default
    # thresholds, took ~5% of this process's CPU walking the live tasks' rows.
    gc.set_threshold(50_000, 20, 100)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    logging.basicConfig(filename=log_path, level=logging.DEBUG if debug else logging.INFO,
                        format="%(created)f %(asctime)s %(name)s %(levelname)s: %(message)s")
    log.info("monitoring database process for run %s writing to %s", run_id, url)
    writer = Writer(url, run_id, lambda message: _say({"warning": message}))
    started = time.monotonic()
    try:
        if not serve(writer, sys.stdin.fileno()):
            log.warning("the script ended without closing its run (killed?): marking it lost")
            writer.end("lost")
    except _Terminated:  # stopped from outside: keep what was received
        log.warning("terminated: writing what was received, marking the run lost")
        writer.end("lost")
    finally:
        writer.close()
    log.info("done after %.1f s: %s", time.monotonic() - started, writer.stats())
    return 0


if __name__ == "__main__":
    sys.exit(main())

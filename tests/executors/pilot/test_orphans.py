"""If the submitting process is killed, the interchange, managers and workers all exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from conftest import HERE, session_processes

SCRIPT = r"""
import json, sys, time
sys.path[:0] = [{here!r}, {tests!r}]
from conftest import local_provider
from pilot_tasks import add
from plait.executors.pilot._executor import HighThroughputExecutor
ex = HighThroughputExecutor(provider=local_provider(), heartbeat_period=0.5,
                            heartbeat_threshold=2.0, max_workers_per_node=2,
                            address="127.0.0.1")
ex.run_dir = {run_dir!r}
ex.start()
assert ex.submit(add, {{}}, 1, 2).result(timeout=60) == 3
print(json.dumps({{"interchange": ex._client.child.pid,
                  "sessions": [int(j) for j in ex.blocks_to_job_id.values()]}}), flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(60)
def test_killed_submitter_leaves_no_process(tmp_path):
    code = SCRIPT.format(here=HERE, tests=os.path.dirname(os.path.dirname(HERE)),
                         run_dir=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        sessions = {info["interchange"], *info["sessions"]}
        assert session_processes(sessions)  # all running
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    t0 = time.monotonic()
    _, alive = psutil.wait_procs(session_processes(sessions), timeout=15)
    assert not alive, [p.cmdline() for p in alive]
    # interchange: stdin EOF at once; managers: no heartbeat for 2 s; workers: with them
    assert time.monotonic() - t0 < 10

"""Ctrl-C in a script running on the pilot executor: prompt exit, no process left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from waiting import wait_until

SCRIPT = textwrap.dedent("""
    import sys, time, plait
    from plait import Config, HighThroughputExecutor, python_app
    from plait.providers import LocalProvider

    @python_app
    def sleepy():
        import time
        time.sleep(60)

    config = Config(run_dir=sys.argv[1], executors=[HighThroughputExecutor(
        max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=2))])
    with plait.load(config):
        futs = [sleepy() for _ in range(6)]
        while futs[0].task_status() != "launched":
            time.sleep(0.05)
        print("READY", flush=True)
        futs[0].result()
""")


@pytest.mark.timeout(90)
def test_ctrl_c_leaves_no_interchange_manager_or_worker(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runinfo")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY"
        root = psutil.Process(proc.pid)
        wait_until(lambda: _count_workers(root) >= 2, 30, "both workers of the block")
        family = root.children(recursive=True)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        assert time.monotonic() - started < 15
        _, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"
        assert proc.returncode != 0
    finally:
        proc.kill()
        proc.wait()


def _count_workers(root: psutil.Process) -> int:
    """Worker processes under ``root``; one that exits while being read is not counted."""
    count = 0
    for child in root.children(recursive=True):
        try:
            count += "_worker" in " ".join(child.cmdline())
        except psutil.Error:  # gone or a zombie between listing and reading
            pass
    return count

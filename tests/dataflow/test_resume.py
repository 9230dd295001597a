"""Re-running a workflow: only what failed (or never finished) runs again.

Each test runs the same workflow twice against one base run directory, the way a user
re-runs a script, and counts how often each task body really executed.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import psutil
import pytest

import plait
from plait import Config, ThreadPoolExecutor, python_app
from plait.dataflow._checkpoint import scan
from plait.dataflow.states import States
from plait.errors import DependencyError
from waiting import wait_until

RUNS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()
MARKER: list[Path] = []


def ran(name: str) -> None:
    with _LOCK:
        RUNS[name] += 1


@python_app(cache=True)
def load_data(n: int) -> list[int]:
    ran("A")
    return list(range(n))


@python_app(cache=True)
def total(data: list[int]) -> int:
    ran("B")
    return sum(data)


@python_app(cache=True)
def flaky_max(data: list[int]) -> int:
    ran("C")
    if MARKER[0].exists():
        raise OSError(f"service unavailable ({MARKER[0]} exists)")
    return max(data)


@python_app(cache=True)
def combine(s: int, m: int) -> str:
    ran("D")
    return f"sum={s} max={m}"


def diamond() -> dict[str, Any]:
    a = load_data(10)
    b, c = total(a), flaky_max(a)
    return {"A": a, "B": b, "C": c, "D": combine(b, c)}


def run_once(run_dir: str) -> dict[str, Any]:
    RUNS.clear()
    plait.clear()
    with plait.load(Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir,
                           strategy="none", checkpoint_mode="task_exit")):
        futs = diamond()
        for f in futs.values():
            f.exception(timeout=30)
    plait.clear()
    return futs


def test_diamond_reruns_only_the_failed_branch(run_dir: str, tmp_path: Path) -> None:
    MARKER[:] = [tmp_path / "service-down"]
    MARKER[0].touch()
    first = run_once(run_dir)
    assert dict(RUNS) == {"A": 1, "B": 1, "C": 1}
    assert isinstance(first["C"].exception(), OSError)
    assert isinstance(first["D"].exception(), DependencyError)
    assert first["D"].task_record.state is States.dep_fail

    MARKER[0].unlink()
    second = run_once(run_dir)
    assert dict(RUNS) == {"C": 1, "D": 1}  # A and B came from the first run's checkpoint
    assert second["D"].result() == "sum=45 max=9"
    states = {k: f.task_record.state for k, f in second.items()}
    assert states == {"A": States.memo_done, "B": States.memo_done,
                      "C": States.exec_done, "D": States.exec_done}

    third = run_once(run_dir)  # everything is known now
    assert not RUNS
    assert all(f.task_record.state is States.memo_done for f in third.values())


WORKFLOW = textwrap.dedent("""
    import json, os, sys, time
    import plait
    from plait import Config, ThreadPoolExecutor, python_app

    run_dir, log_path, report = sys.argv[1:4]
    N = int(sys.argv[4])

    @python_app(cache=True)
    def work(i):
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"%d\\n" % i)
        os.close(fd)
        time.sleep(0.01)
        return bytes([i % 256]) * 65536  # big enough that a kill may tear a record

    config = Config(executors=[ThreadPoolExecutor(max_threads=4)], run_dir=run_dir,
                    strategy="none", checkpoint_mode="task_exit")
    with plait.load(config):
        futs = [work(i) for i in range(N)]
        out = {}
        for i, f in enumerate(futs):
            r = f.result(timeout=120)
            out[i] = [f.task_record.hashsum, f.task_record.state.name,
                      r == bytes([i % 256]) * 65536]
    with open(report, "w") as fh:
        json.dump(out, fh)
""")


def executed(log_path: Path) -> list[int]:
    if not log_path.exists():
        return []
    return [int(line) for line in log_path.read_text().split("\n") if line.strip()]


@pytest.mark.timeout(120)
def test_sigkill_mid_run_then_resume_reexecutes_nothing_completed(tmp_path: Path) -> None:
    n, kill_after = 400, 60
    script = tmp_path / "workflow.py"
    script.write_text(WORKFLOW)
    run_dir, report = tmp_path / "runinfo", tmp_path / "report.json"
    log1, log2 = tmp_path / "run1.log", tmp_path / "run2.log"

    proc = subprocess.Popen([sys.executable, str(script), str(run_dir), str(log1),
                             str(report), str(n)], stderr=subprocess.PIPE)

    def started_enough() -> bool:  # task bodies write the file; nothing signals
        assert proc.poll() is None, f"run 1 ended early: {proc.stderr.read()!r}"  # type: ignore[union-attr]
        return len(executed(log1)) >= kill_after

    wait_until(started_enough, 60, f"run 1 to start {kill_after} tasks")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    proc.stderr.close()  # type: ignore[union-attr]
    assert not report.exists()

    store = run_dir / "000" / "checkpoint" / "tasks.ckpt"
    checkpointed = {key for key, _, _ in scan(str(store))}  # tolerates a torn last record
    first_run = set(executed(log1))
    assert kill_after <= len(first_run) < n and len(checkpointed) <= len(first_run)
    assert checkpointed, "run 1 checkpointed nothing before the kill"

    subprocess.run([sys.executable, str(script), str(run_dir), str(log2), str(report),
                    str(n)], check=True, timeout=100, capture_output=True)
    result = json.loads(report.read_text())
    assert all(ok for _, _, ok in result.values()), "a resumed result is wrong"
    from_checkpoint = {int(i) for i, (key, _, _) in result.items() if key in checkpointed}
    assert len(from_checkpoint) == len(checkpointed)
    second_run = executed(log2)
    assert len(second_run) == len(set(second_run))  # nothing ran twice within run 2
    assert set(second_run) == set(range(n)) - from_checkpoint  # exactly the unfinished ones
    assert {int(i) for i, (_, state, _) in result.items()
            if state == "memo_done"} == from_checkpoint
    assert not psutil.Process().children(recursive=True)

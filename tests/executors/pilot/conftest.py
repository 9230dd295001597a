"""Fixtures for the pilot executor: a small local provider and an executor factory.

``SessionProvider`` runs each block's command with bash in a new session (process group), the
way LocalProvider does, and remembers the session ids so the tests can assert that nothing
the executor started survives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from plait.executors.pilot._executor import HighThroughputExecutor
from plait.providers import JobState, JobStatus

# Task functions live in pilot_tasks.py next to this file; workers import it by reference.
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
EXPORT_PATH = f"export PYTHONPATH={HERE}${{PYTHONPATH:+:$PYTHONPATH}}"


class SessionProvider:
    """Runs blocks on this machine, each in its own session; exact status from the process."""

    def __init__(self, init_blocks: int = 1, worker_init: str = "",
                 status_polling_interval: float = 0.2) -> None:
        self.label = "session"
        self.init_blocks, self.min_blocks, self.max_blocks = init_blocks, 0, 10
        self.nodes_per_block, self.parallelism = 1, 1.0
        self.worker_init = f"{EXPORT_PATH}\n{worker_init}"
        self.script_dir: str | None = None
        self.cores_per_node = self.mem_per_node = None
        self.launcher = None
        self.status_polling_interval = status_polling_interval
        self.is_local = True
        self.jobs: dict[str, subprocess.Popen[bytes]] = {}
        self.sessions: set[int] = set()

    def submit(self, command: str, tasks_per_node: int, job_name: str = "plait.auto") -> str:
        assert self.script_dir
        base = os.path.join(self.script_dir, job_name)
        with open(base + ".sh", "w") as fh:
            fh.write(f"{self.worker_init}\n{command}\n")
        with open(base + ".stdout", "wb") as out, open(base + ".stderr", "wb") as err:
            proc = subprocess.Popen(["bash", base + ".sh"], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        job_id = str(proc.pid)
        self.jobs[job_id] = proc
        self.sessions.add(proc.pid)
        proc.job_base = base  # type: ignore[attr-defined]
        return job_id

    def status(self, job_ids: list[str]) -> list[JobStatus]:
        out = []
        for job_id in job_ids:
            proc = self.jobs[job_id]
            code = proc.poll()
            base = proc.job_base  # type: ignore[attr-defined]
            if code is None:
                out.append(JobStatus(JobState.RUNNING))
            else:
                out.append(JobStatus(JobState.COMPLETED if code == 0 else JobState.FAILED,
                                     exit_code=code, stdout_path=base + ".stdout",
                                     stderr_path=base + ".stderr"))
        return out

    def cancel(self, job_ids: list[str]) -> list[bool]:
        for job_id in job_ids:
            proc = self.jobs[job_id]
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        return [True for _ in job_ids]


def session_processes(sessions: set[int]) -> list[psutil.Process]:
    """Live processes in any of ``sessions``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) in sessions and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, psutil.Error, PermissionError):
            continue
    return found


def assert_all_gone(ex: HighThroughputExecutor, provider: SessionProvider,
                    timeout: float = 10) -> None:
    """Every process the executor started (interchange, blocks) exits within ``timeout``."""
    sessions = set(provider.sessions)
    client = ex._client
    if client is not None and client.child is not None:
        sessions.add(client.child.pid)
    left = session_processes(sessions)
    _, alive = psutil.wait_procs(left, timeout=timeout)
    assert not alive, f"processes left behind: {[(p.pid, p.cmdline()) for p in alive]}"


Factory = Callable[..., tuple[HighThroughputExecutor, SessionProvider]]


@pytest.fixture
def make_htex(tmp_path: Any) -> Iterator[Factory]:
    """Build started executors with short heartbeats; shut down and check for leftovers."""
    made: list[tuple[HighThroughputExecutor, SessionProvider]] = []

    def factory(start: bool = True, provider: SessionProvider | None = None,
                **kwargs: Any) -> tuple[HighThroughputExecutor, SessionProvider]:
        provider = provider or SessionProvider()
        kwargs.setdefault("heartbeat_period", 0.5)
        kwargs.setdefault("heartbeat_threshold", 2.0)
        kwargs.setdefault("max_workers_per_node", 2)
        kwargs.setdefault("address", "127.0.0.1")
        ex = HighThroughputExecutor(label=f"htex{len(made)}", provider=provider, **kwargs)
        ex.run_dir = str(tmp_path)
        ex.run_id = "test"
        made.append((ex, provider))
        if start:
            ex.start()
        return ex, provider

    yield factory
    for ex, provider in made:
        ex.shutdown()
        assert_all_gone(ex, provider)

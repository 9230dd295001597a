"""Helpers for tests that run on the real Slurm of services/slurm.sh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from services import service

VENV_BIN = os.path.dirname(sys.executable)
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
# Blocks run on this host through slurmd: the venv's scripts and the test task modules.
WORKER_INIT = (f"export PATH={VENV_BIN}:$PATH; "
               f"export PYTHONPATH={TESTS_DIR}${{PYTHONPATH:+:$PYTHONPATH}}")


def slurm() -> dict[str, str]:
    """The running Slurm's settings (fails the test if services/slurm.sh is not up)."""
    return service("slurm")


def squeue_state(job_id: str) -> str:
    """The job's state as squeue shows it now ("" once Slurm forgot it)."""
    out = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%T",
                          f"--jobs={job_id}"], capture_output=True, text=True, timeout=20)
    return out.stdout.strip()


def wait_state(job_id: str, wanted: set[str], timeout: float = 60) -> str:
    """Block until squeue reports one of ``wanted`` for the job; return it.

    Slurm sends no events to a client: asking squeue again is the only way to see a job
    change (0.5 s apart, bounded by ``timeout``).
    """
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = squeue_state(job_id)
        if state in wanted:
            return state
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} is {state or 'gone'}, not {wanted}, after {timeout} s")


def live_jobs_named(prefix: str) -> list[str]:
    """Ids of jobs whose name starts with ``prefix`` that have not ended."""
    out = subprocess.run(["squeue", "--noheader", "--format=%i %j %T"], capture_output=True,
                         text=True, timeout=20, check=True)
    return [line.split()[0] for line in out.stdout.splitlines()
            if line.split()[1].startswith(prefix)
            and line.split()[2] not in ("COMPLETED", "CANCELLED", "TIMEOUT", "FAILED")]


def scancel(*job_ids: Any) -> None:
    subprocess.run(["scancel", *map(str, job_ids)], check=True, timeout=20)

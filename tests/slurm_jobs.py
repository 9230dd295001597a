"""Helpers for tests that run on the real Slurm of services/slurm.sh."""

from __future__ import annotations

import os
import subprocess
import sys

from services import service
from waiting import wait_until

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
    """Block until squeue reports one of ``wanted`` ("" once Slurm forgot the job); return it.

    Slurm sends no events to a client: asking squeue again (every 0.5 s) is the only way.
    """
    seen = [""]

    def arrived() -> bool:
        seen[0] = squeue_state(job_id)
        return seen[0] in wanted

    wait_until(arrived, timeout, lambda: f"job {job_id} in {wanted} (it is "
               f"{seen[0] or 'gone'})", interval=0.5)
    return seen[0]

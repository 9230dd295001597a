"""Task bodies for the tests that run pilots in Slurm blocks; workers import them by name."""

from __future__ import annotations

import os
import time


def where(x: int = 0) -> tuple[int, str, str]:
    """``x`` back, with the Slurm job and node the task ran in."""
    return x, os.environ.get("SLURM_JOB_ID", ""), os.environ.get("SLURMD_NODENAME", "")


def first_try_hangs(marker: str, beacon: str) -> str:
    """First try: create ``marker``, say so on ``beacon``, then hang until the block dies.
    Later tries: return the Slurm job id at once."""
    job = os.environ.get("SLURM_JOB_ID") or os.environ.get("PBS_JOBID") or "-"
    if not os.path.exists(marker):
        open(marker, "w").close()
        with open(beacon, "w") as fh:
            fh.write(f"started {job}\n")
        time.sleep(900)
    return job

"""A workflow whose Slurm block hits its walltime, run by test_slurm_pilot.py in its own
process (it takes 60-95 s, so the other Slurm tests run meanwhile).

    python slurm_walltime_run.py REPORT.json RUN_DIR WORK_DIR

Block 0 has a 1-minute walltime and drains 25 s after it starts (drain_margin=35). One task
hangs on it until Slurm kills the block; a task submitted after the drain must run on a new
block. The report says where each ran, how the hung task failed and when it finished.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime

import plait
import slurm_tasks as t
from plait import Config, python_app
from plait.executors import HighThroughputExecutor
from plait.providers import SlurmProvider
from slurm_jobs import WORKER_INIT

hang, where = python_app(t.first_try_hangs), python_app(t.where)


def wait_draining(ex: HighThroughputExecutor, timeout: float) -> float:
    """Seconds until a connected manager reports it drains (asked every 0.5 s)."""
    start = time.monotonic()
    while not any(m["draining"] for m in ex.connected_managers()):
        if time.monotonic() - start > timeout:
            raise RuntimeError("no manager started draining")
        time.sleep(0.5)
    return time.monotonic() - start


def end_time(job_id: str) -> float:
    out = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%e",
                          f"--jobs={job_id}"], capture_output=True, text=True, check=True)
    return datetime.fromisoformat(out.stdout.strip()).timestamp()


def main() -> None:
    report_path, run_dir, work = sys.argv[1:4]
    provider = SlurmProvider(walltime="00:01:00", drain_margin=35, worker_init=WORKER_INIT,
                             max_blocks=2, exclusive=False, status_polling_interval=5)
    ex = HighThroughputExecutor(label="walltime", max_workers_per_node=2, heartbeat_period=2,
                                heartbeat_threshold=10, provider=provider)
    report: dict[str, object] = {}
    with plait.load(Config(executors=[ex], run_dir=run_dir, retries=0, strategy="simple")):
        hung = hang(os.path.join(work, "marker"), os.path.join(work, "started"))
        report["first_job"] = where(1).result(timeout=60)[1]
        report["drain_seen_after"] = wait_draining(ex, timeout=60)
        report["after_drain_job"] = where(2).result(timeout=90)[1]
        report["retried_on"] = hung.result(timeout=240)
        finished = time.time()
        record = hung.task_record
        first = (record.failed_tries or [None])[0]
        report["first_error_type"] = type(first.exception).__name__ if first else None
        report["first_error"] = str(first.exception) if first else None
        report["fail_cost"] = record.fail_cost
        report["timeout_to_result"] = finished - end_time(str(report["first_job"]))
        report["jobs"] = sorted(provider.resources)
    with open(report_path, "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    main()

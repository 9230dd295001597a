"""A script whose one task hangs in a Slurm block, for the Ctrl-C and crash tests.

    python slurm_hang_run.py RUN_DIR WORK_DIR with|queued

``with``: the kernel is loaded in a ``with`` block (Ctrl-C cleans up), and the task writes
"started JOB_ID" to WORK_DIR/beacon (a FIFO the test reads) once it runs. ``queued``: plain
``plait.load()``, never cleaned up (a script about to crash), and the block is held in the
queue for 10 minutes (``--begin``), as a block waiting for nodes would be; the script prints
"submitted JOB_ID" once sbatch accepted it.
"""

from __future__ import annotations

import os
import sys
import time

import plait
import slurm_tasks as t
from plait import Config, python_app
from plait.executors import HighThroughputExecutor
from plait.providers import SlurmProvider
from slurm_jobs import WORKER_INIT

hang = python_app(t.first_try_hangs)


def main() -> None:
    run_dir, work, mode = sys.argv[1:4]
    provider = SlurmProvider(worker_init=WORKER_INIT, exclusive=False,
                             status_polling_interval=5,
                             scheduler_options="#SBATCH --begin=now+600" if mode == "queued"
                             else "")
    config = Config(executors=[HighThroughputExecutor(label="hang", provider=provider)],
                    run_dir=run_dir, strategy="none")
    marker, beacon = os.path.join(work, "marker"), os.path.join(work, "beacon")
    if mode == "with":
        with plait.load(config):
            hang(marker, beacon).result(timeout=600)
    else:
        plait.load(config)
        fut = hang(marker, beacon)
        while not provider.resources:  # the block is submitted by the executor's start
            time.sleep(0.05)
        print("submitted", *provider.resources, flush=True)
        fut.result(timeout=600)


if __name__ == "__main__":
    main()

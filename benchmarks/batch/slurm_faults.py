"""Faults on the real Slurm: how long until the futures say so, plait against Parsl.

    python benchmarks/batch/slurm_faults.py plait|parsl scancel     # retries=0
    python benchmarks/batch/slurm_faults.py plait|parsl walltime    # retries=1, 1-minute block

``scancel``: a task runs on a block; the block is cancelled with scancel; reports the seconds
from scancel to the future's failure, and the error (does it name the job?).
``walltime``: a task hangs on a block with a 1-minute walltime until Slurm kills it; its retry
returns at once on a new block. Reports the seconds from the job's end (squeue's end time) to
the retried result, and the first try's error. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime


def hang_first_try(marker: str) -> str:
    import os
    import time

    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(900)
    return os.environ.get("SLURM_JOB_ID", "")


def squeue(job: str, fmt: str) -> str:
    return subprocess.run(["squeue", "--noheader", "--states=all", f"--format={fmt}",
                           f"--jobs={job}"], capture_output=True, text=True).stdout.strip()


def run(lib: str, fault: str) -> dict[str, object]:
    mod = importlib.import_module(lib)
    config = importlib.import_module(f"{lib}.config")
    executors = importlib.import_module(f"{lib}.executors")
    providers = importlib.import_module(f"{lib}.providers")
    provider = providers.SlurmProvider(
        worker_init=f"export PATH={os.path.dirname(sys.executable)}:$PATH",
        walltime="00:01:00" if fault == "walltime" else "00:10:00", exclusive=False)
    ex = executors.HighThroughputExecutor(label="faults", provider=provider,
                                          max_workers_per_node=1, address="127.0.0.1")
    hang = mod.python_app(hang_first_try)
    report: dict[str, object] = {"lib": lib, "fault": fault, "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix=f"i15-faults-{lib}-") as tmp:
        cfg = config.Config(executors=[ex], run_dir=os.path.join(tmp, "runinfo"),
                            retries=0 if fault == "scancel" else 1)
        dfk = mod.load(cfg)
        try:
            marker = os.path.join(tmp, "marker")
            fut = hang(marker)
            while not os.path.exists(marker):  # the task runs on the block
                time.sleep(0.1)
            [job] = list(provider.resources)
            report["job"] = job
            if fault == "scancel":
                subprocess.run(["scancel", job], check=True)
                start = time.time()
                exc = fut.exception(timeout=600)
                report["seconds_to_failure"] = time.time() - start
                report["error"] = f"{type(exc).__name__}: {exc}"[:600]
                report["error_names_job"] = re.search(rf"\bjob {job}\b", str(exc)) is not None
            else:
                value = fut.result(timeout=900)
                done = time.time()
                end = datetime.fromisoformat(squeue(job, "%e")).timestamp()
                report["job_state"] = squeue(job, "%T")
                report["seconds_from_timeout_to_result"] = done - end
                report["retried_on_job"] = value
                record = fut.task_record
                if lib == "parsl":
                    history = [str(h) for h in record["fail_history"]]
                else:
                    history = [f"{type(t.exception).__name__}: {t.exception}"
                               for t in record.failed_tries or ()]
                report["first_error"] = history[0][:600] if history else None
                report["says_walltime"] = bool(history) and "walltime" in history[0].lower()
        finally:
            dfk.cleanup()
            mod.clear()
    return report


def main() -> None:
    os.environ["PATH"] = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lib", choices=["plait", "parsl"])
    parser.add_argument("fault", choices=["scancel", "walltime"])
    args = parser.parse_args()
    print(json.dumps(run(args.lib, args.fault)), flush=True)


if __name__ == "__main__":
    main()
